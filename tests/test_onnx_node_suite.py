"""ONNX's backend node tests through tvm_trt: never a crash, never worse than plain TVM.

Every case of the installed onnx is imported with TVM's ONNX importer, partitioned, built with
``tvm_trt.build`` and run (TensorRT subgraphs through the reference executor), then compared
with ONNX's expected outputs. Plain TVM's own verdicts (``tvm.compile`` for llvm) are kept in
``data/onnx_node_suite_tvm.json``, which also lists every case where TVM itself fails and why;
a case where tvm_trt fails is checked against plain TVM (run live when the cache lacks it).

Parity with TensorRT's own ONNX parser: on every case the parser takes whole (cached in
``data/onnx_node_suite_trt_parser.json``) and TVM imports, tvm_trt must offload every op into one
TensorRT subgraph and get the numbers right (through the reference executor without a TensorRT
GPU), unless the case is listed in ``node_parity.py`` with its reason.
"""

import importlib.util

import pytest

onnx = pytest.importorskip("onnx")

# Both environments run the suite, each with its own onnx (and its own cases): the default one
# (current onnx) as an unmarked test, the MXNet one (onnx 1.16) as a test marked mxnet, which
# is what `make test-mxnet` selects there.
pytestmark = [pytest.mark.mxnet] if importlib.util.find_spec("mxnet") else []

import node_parity  # noqa: E402  (tests/node_parity.py)
import node_suite  # noqa: E402  (tests/node_suite.py)

CACHE = node_suite.load_cache()
PARITY = set(node_suite.parity_cases() or ())
CASES = sorted(node_suite.cases())
TVM_FAILS = ("import", "compile", "run", "wrong", "inputs", "crash")

# Plain TVM runs these, tvm_trt's build does not: {case: reason}. Listed, not hidden: a listed case
# that passes fails. Empty since the build's safety net and the inliner's symbolic-var binding.
KNOWN_WORSE = {}


def _plain_tvm(name):
    cached = CACHE.get("cases", {}).get(name) if CACHE.get("onnx") == node_suite.onnx_version() else None
    return tuple(cached) if cached else node_suite.run_case(name, "tvm")


def test_cache_matches_installed_onnx():
    if CACHE.get("onnx") != node_suite.onnx_version():
        pytest.skip(
            f"the plain-TVM cache is for onnx {CACHE.get('onnx')}, this is onnx "
            f"{node_suite.onnx_version()}: plain TVM runs live where needed "
            "(regenerate the cache with tests/node_suite.py --sides tvm --write-cache)"
        )
    assert sorted(CACHE["cases"]) == CASES
    assert all(v[0] in ("ok",) + TVM_FAILS for v in CACHE["cases"].values())


def test_parity_list_is_of_parity_cases():
    if node_suite.parity_cases() is None:
        pytest.skip("the parser or plain-TVM cache is for another onnx version")
    stray = sorted(n for _, names in node_parity.ALLOWED.values() for n in names if n not in PARITY)
    assert not stray, f"node_parity.ALLOWED lists cases the parser does not take whole or TVM cannot import: {stray}"
    stray = sorted(n for n in node_parity.OPTIONS if n not in PARITY)
    assert not stray, f"node_parity.OPTIONS names cases the parser does not take whole or TVM cannot import: {stray}"


def _check_parity(name, run):
    verdict, detail = node_suite.parity_verdict(*run)
    listed = node_parity.allowed(name)
    if listed is None:
        assert verdict == "ok", f"TensorRT's parser takes the case whole; tvm_trt: {verdict}: {detail}"
        return
    fragment, reason = listed
    assert verdict != "ok", f"listed in node_parity.ALLOWED ({reason}) but offloaded whole and right now: drop it"
    assert fragment in detail, f"listed for {fragment!r} ({reason}), fails otherwise: {verdict}: {detail}"


@pytest.mark.parametrize("name", CASES)
def test_node_case(name):
    run = node_suite.run_case_whole(name, "tvm_trt")
    verdict, detail = run[:2]
    assert verdict != "partition", f"partition_for_tensorrt raised: {detail}"
    if name in PARITY:
        _check_parity(name, run)
    if verdict in ("ok", "same"):  # right, or nothing offloaded (the module is TVM's own)
        assert name not in KNOWN_WORSE, f"listed in KNOWN_WORSE ({KNOWN_WORSE.get(name)}) but right now: drop it"
        return
    tvm_verdict, tvm_detail = _plain_tvm(name)
    if tvm_verdict == "ok" and name in KNOWN_WORSE:
        pytest.xfail(f"{KNOWN_WORSE[name]}: {detail[:120]}")
    assert tvm_verdict != "ok", f"plain TVM is right, tvm_trt is not ({verdict}): {detail}"
    pytest.xfail(f"plain TVM fails too ({tvm_verdict}): {tvm_detail[:120]}")
