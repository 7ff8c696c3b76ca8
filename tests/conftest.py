import os

import pytest

# No TensorRT GPU exists on test machines: evaluate built networks with the reference executor.
os.environ.setdefault("TVM_TENSORRT_EXECUTOR", "reference")
os.environ.pop("TVM_TENSORRT_CACHE_DIR", None)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "engines"
    monkeypatch.setenv("TVM_TENSORRT_CACHE_DIR", str(d))
    return d
