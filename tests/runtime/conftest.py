import pytest

from tvm_trt.runtime import reset


@pytest.fixture
def tensorrt_executor(monkeypatch):
    """The default executor (TensorRT), not conftest's reference executor: on a CPU it cannot run."""
    monkeypatch.delenv("TVM_TENSORRT_EXECUTOR", raising=False)
    monkeypatch.delenv("TVM_TENSORRT_FALLBACK", raising=False)
    reset()
    yield
    reset()
