"""ONNX's backend node tests through tvm_trt: never a crash, never worse than plain TVM.

Every case of the installed onnx is imported with TVM's ONNX importer, partitioned, built with
``tvm_trt.build`` and run (TensorRT subgraphs through the reference executor), then compared
with ONNX's expected outputs. Plain TVM's own verdicts (``tvm.compile`` for llvm) are kept in
``data/onnx_node_suite_tvm.json``, which also lists every case where TVM itself fails and why;
a case where tvm_trt fails is checked against plain TVM (run live when the cache lacks it).
"""
import importlib.util

import pytest

onnx = pytest.importorskip("onnx")

# Both environments run the suite, each with its own onnx (and its own cases): the default one
# (current onnx) as an unmarked test, the MXNet one (onnx 1.16) as a test marked mxnet, which
# is what `make test-mxnet` selects there.
pytestmark = [pytest.mark.mxnet] if importlib.util.find_spec("mxnet") else []

import node_suite  # noqa: E402  (tests/node_suite.py)

CACHE = node_suite.load_cache()
CASES = sorted(node_suite.cases())
TVM_FAILS = ("import", "compile", "run", "wrong", "inputs", "crash")


def _plain_tvm(name):
    cached = CACHE.get("cases", {}).get(name) if CACHE.get("onnx") == node_suite.onnx_version() else None
    return tuple(cached) if cached else node_suite.run_case(name, "tvm")


def test_cache_matches_installed_onnx():
    if CACHE.get("onnx") != node_suite.onnx_version():
        pytest.skip(f"the plain-TVM cache is for onnx {CACHE.get('onnx')}, this is onnx "
                    f"{node_suite.onnx_version()}: plain TVM runs live where needed "
                    "(regenerate the cache with tests/node_suite.py --sides tvm --write-cache)")
    assert sorted(CACHE["cases"]) == CASES
    assert all(v[0] in ("ok",) + TVM_FAILS for v in CACHE["cases"].values())


@pytest.mark.parametrize("name", CASES)
def test_node_case(name):
    verdict, detail = node_suite.run_case(name, "tvm_trt")
    assert verdict != "partition", f"partition_for_tensorrt raised: {detail}"
    if verdict in ("ok", "same"):  # right, or nothing offloaded (the module is TVM's own)
        return
    tvm_verdict, tvm_detail = _plain_tvm(name)
    assert tvm_verdict != "ok", f"plain TVM is right, tvm_trt is not ({verdict}): {detail}"
    pytest.xfail(f"plain TVM fails too ({tvm_verdict}): {tvm_detail[:120]}")
