"""Smoke test of the dispatch-overhead benchmark's core function (structure only, no timing limits)."""

import math
import os
import sys

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")
sys.path.insert(0, BENCH)

import dispatch_overhead  # noqa: E402


def test_dispatch_overhead_reduced_run():
    before = os.environ.get("TVM_TENSORRT_EXECUTOR")
    result = dispatch_overhead.measure(iters=20, repeats=2, profile=True)

    assert result["shape"] == [1, 8]
    assert set(result["per_call_us"]) == {"tvm_llvm", "python_noop", "stub_entry_noop", "tvm_trt_stub"}
    for variant, us in result["per_call_us"].items():
        assert 0 < us["min"] <= us["median"] and math.isfinite(us["median"]), variant
    overhead = result["overhead_us"]
    assert math.isclose(
        overhead["vs_tvm_llvm_min"],
        result["per_call_us"]["tvm_trt_stub"]["min"] - result["per_call_us"]["tvm_llvm"]["min"],
    )
    assert set(result["breakdown_us"]) >= {"Subgraph.call", "check_inputs", "executor_mode"}
    assert all(us > 0 for us in result["breakdown_us"].values())
    # The profile saw our runtime's entry points on every call.
    calls = {row["function"]: row["calls_per_iter"] for row in result["profile"]}
    assert any("run" in name for name in calls)
    assert all(row["own_us_per_iter"] >= 0 for row in result["profile"])
    # The benchmark leaves the process as it found it.
    assert os.environ.get("TVM_TENSORRT_EXECUTOR") == before
    from tvm_trt.runtime import runtime_stats

    assert runtime_stats()["subgraphs_loaded"] == 0
    import tvm

    # tvm_trt.run is ours again after the benchmark's no-op stand-in
    assert tvm.get_global_func("tvm_trt.run")("no-such-key", 1, 0) == 1  # NOT_LOADED
