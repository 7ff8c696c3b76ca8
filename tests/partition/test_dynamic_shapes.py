"""Optimization profiles for symbolic dims: user ranges (dynamic_shapes) fixed and enforced,
tir_var_upper_bound, grown profiles, per-shape engines, profiles in cache keys and in
runtime_stats, profiled plans embedded at compile time."""

import numpy as np
import pytest
import tvm
from tvm import relax

import tvm_trt
from harness import make_module
from tvm_trt.core import tensorrt
from tvm_trt.runtime.profiles import Profiles

pytestmark = pytest.mark.skipif(not tensorrt.available(), reason="needs a TensorRT library")

R = relax.op
N, S = tvm.tirx.Var("n", "int64"), tvm.tirx.Var("s", "int64")


def _module(upper_bound=None):
    """(n, s, 8) -> relu(x + x) reshaped to (n, s * 8): a reshape with a symbolic target."""
    mod = make_module(
        lambda x: [R.add(x, x), R.reshape(R.nn.relu(x), relax.ShapeExpr([N, S * 8]))], {"x": ((N, S, 8), "float32")}
    )
    if upper_bound:
        mod["main"] = mod["main"].with_attr("tir_var_upper_bound", upper_bound)
    return mod


def _run(ex, shapes):
    vm = relax.VirtualMachine(ex, tvm.cpu())
    for n, s in shapes:
        x = np.random.default_rng(n * 100 + s).standard_normal((n, s, 8)).astype("float32")
        got = vm["main"](tvm.runtime.tensor(x)).numpy()
        np.testing.assert_allclose(got, np.maximum(x, 0).reshape(n, s * 8), rtol=1e-6)
    return tvm_trt.runtime_stats()


@pytest.fixture
def fresh_runtime(monkeypatch):
    monkeypatch.delenv("TVM_TENSORRT_MULTI_ENGINE", raising=False)
    tvm_trt.runtime.reset()
    yield monkeypatch
    tvm_trt.runtime.reset()


def _profiles(stats):
    (profiles,) = stats["profiles"].values()
    return profiles


def test_user_ranges_fix_the_profile_and_reject_outside(fresh_runtime):
    pmod, config = tvm_trt.partition_for_tensorrt(
        _module(), use_implicit_batch=False, dynamic_shapes={"n": (1, 2, 4), "s": (2, 8, 16)}
    )
    assert config["dynamic_shapes"] == {"n": [1, 2, 4], "s": [2, 8, 16]}
    ex = tvm_trt.build(pmod, "llvm")
    stats = _run(ex, [(1, 2), (4, 16), (3, 5)])
    assert stats["engines_built"] == 1 and stats["engines_held"] == 1
    assert _profiles(stats) == [{"n": [1, 2, 4], "s": [2, 8, 16]}]
    with pytest.raises(Exception, match=r"input 0 \(x\) dim 1 \(s\) is 17, outside dynamic_shapes\['s'\] = \[2, 16\]"):
        _run(ex, [(1, 17)])
    fresh_runtime.setenv("TVM_TENSORRT_MULTI_ENGINE", "1")  # per-shape engines keep the user's limits
    with pytest.raises(Exception, match=r"dim 0 \(n\) is 5, outside dynamic_shapes\['n'\] = \[1, 4\]"):
        _run(ex, [(5, 4)])


def test_outside_a_user_range_is_an_error_not_a_fallback(fresh_runtime):
    """With the TensorRT executor and the TVM fallback on, a shape outside dynamic_shapes still raises:
    it is the caller's error, not a subgraph TensorRT cannot run."""
    pmod, _ = tvm_trt.partition_for_tensorrt(
        _module(), use_implicit_batch=False, dynamic_shapes={"n": (1, 2, 4), "s": (2, 8, 16)}
    )
    ex = tvm_trt.build(pmod, "llvm")
    fresh_runtime.setenv("TVM_TENSORRT_EXECUTOR", "tensorrt")
    with pytest.raises(Exception, match=r"dim 1 \(s\) is 17, outside dynamic_shapes\['s'\] = \[2, 16\]"):
        _run(ex, [(1, 17)])
    assert tvm_trt.runtime_stats()["fallback_executions"] == 0


def test_dynamic_shapes_must_name_symbolic_dims():
    with pytest.raises(ValueError, match=r"\['seq'\].*symbolic dims: \['n', 's'\]"):
        tvm_trt.partition_for_tensorrt(_module(), dynamic_shapes={"seq": (1, 2, 3)})
    with pytest.raises(ValueError, match="min <= opt <= max"):
        tvm_trt.partition_for_tensorrt(_module(), dynamic_shapes={"n": (4, 2, 8)})


def test_upper_bound_sizes_the_profile_once(fresh_runtime):
    pmod, config = tvm_trt.partition_for_tensorrt(_module({"n": 8, "s": 32}), use_implicit_batch=False)
    assert config["tir_var_upper_bound"] == {"n": 8, "s": 32}
    stats = _run(tvm_trt.build(pmod, "llvm"), [(2, 4), (8, 32), (1, 3)])
    assert stats["engines_built"] == 1 and _profiles(stats) == [{"n": [1, 2, 8], "s": [1, 4, 32]}]


@pytest.mark.parametrize(
    "mode,built,held", [("0", [1, 2, 2, 3], 1), ("1", [1, 2, 3, 4], 4)], ids=["one-engine", "engine-per-shape"]
)
def test_grown_profile_or_engine_per_shape(fresh_runtime, mode, built, held):
    fresh_runtime.setenv("TVM_TENSORRT_MULTI_ENGINE", mode)
    ex = tvm_trt.build(tvm_trt.partition_for_tensorrt(_module(), use_implicit_batch=False)[0], "llvm")
    counts = [_run(ex, [shape])["engines_built"] for shape in [(1, 4), (1, 16), (1, 8), (3, 16)]]
    stats = tvm_trt.runtime_stats()
    assert counts == built and stats["engines_held"] == held
    if mode == "0":  # a shape inside the profile never rebuilds; the profile covers all met so far
        assert _profiles(stats) == [{"n": [1, 3, 3], "s": [1, 16, 16]}] and stats["engines_freed"] == 2
    else:
        assert sorted(p["s"][0] for p in _profiles(stats)) == [4, 8, 16, 16]


def test_profiles_are_part_of_the_cache_key(fresh_runtime, cache_dir):
    pmod, _ = tvm_trt.partition_for_tensorrt(
        _module(), use_implicit_batch=False, dynamic_shapes={"n": (1, 2, 4), "s": (2, 8, 16)}
    )
    ex = tvm_trt.build(pmod, "llvm")
    _run(ex, [(2, 8)])
    tvm_trt.runtime.reset()
    stats = _run(ex, [(2, 8)])  # same profile: loaded, not built
    assert stats["engines_loaded_from_cache"] == 1 and stats["engines_built"] == 0
    tvm_trt.runtime.reset()
    fresh_runtime.setenv("TVM_TENSORRT_MULTI_ENGINE", "1")
    stats = _run(ex, [(2, 8)])  # same max shapes, another profile (2..2, 8..8): another plan
    assert stats["engines_built"] == 1 and len(list(cache_dir.iterdir())) == 2


def test_compile_time_plan_for_user_ranges(fresh_runtime):
    pmod, _ = tvm_trt.partition_for_tensorrt(
        _module(),
        use_implicit_batch=False,
        build_at_compile_time=True,
        dynamic_shapes={"n": (1, 2, 4), "s": (2, 8, 16)},
    )
    stats = _run(tvm_trt.build(pmod, "llvm"), [(1, 2), (4, 16)])
    assert stats["engines_from_library"] == 1 and stats["engines_built"] == 0


def test_profile_of_expression_dims():
    spec = {
        "symbol": "f",
        "config": {"dynamic_shapes": {"n": [1, 2, 4]}},
        "inputs": [{"name": "a", "shape": ["n", "s"]}, {"name": "b", "shape": ["n * T.int64(2)", 3]}],
    }
    profiles = Profiles(spec)
    env = profiles.bind([(3, 7), (6, 3)])
    assert env == {"n": 3, "s": 7}
    assert profiles.input_ranges(profiles.grown(env, None)) == [((1, 1), (2, 7), (4, 7)), ((2, 3), (4, 3), (8, 3))]
    with pytest.raises(ValueError, match=r"input 1 \(b\) dim 0 is 5, expected n \* T.int64\(2\) = 6"):
        profiles.bind([(3, 7), (5, 3)])
