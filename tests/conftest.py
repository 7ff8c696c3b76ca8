import importlib.util
import os

import pytest

# No TensorRT GPU exists on test machines: evaluate built networks with the reference executor.
os.environ.setdefault("TVM_TENSORRT_EXECUTOR", "reference")
os.environ.pop("TVM_TENSORRT_CACHE_DIR", None)


def _missing(names):
    return [n for n in names if importlib.util.find_spec(n) is None]


def pytest_sessionstart(session):
    # `make test` names the packages each environment must have, so that a broken install fails the run
    # instead of turning into skipped tests.
    missing = _missing(os.environ.get("TVM_TRT_TEST_REQUIRES", "").split())
    if missing:
        raise pytest.UsageError(f"this environment lacks {missing}, which its tests need (TVM_TRT_TEST_REQUIRES)")


def pytest_collection_modifyitems(config, items):
    # Tests marked `mxnet` run in the MXNet environment (`make test` selects them with -m mxnet); a plain pytest run
    # elsewhere says why they did not run.
    if not _missing(["mxnet"]):
        return
    skip = pytest.mark.skip(reason="needs MXNet: run in the MXNet environment (make test-mxnet)")
    for item in items:
        if item.get_closest_marker("mxnet"):
            item.add_marker(skip)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "engines"
    monkeypatch.setenv("TVM_TENSORRT_CACHE_DIR", str(d))
    return d
