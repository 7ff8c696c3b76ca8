"""Concurrent calls from many threads; errors that name the subgraph, input and TensorRT's message;
plans built at compile time via partition_for_tensorrt."""

import logging
import threading

import numpy as np
import pytest
import tvm
from tvm import relax

import tvm_trt
from harness import make_module, random_inputs
from runtime_models import conv_softmax, dynamic_conv
from tvm_trt.core import tensorrt
from tvm_trt.codegen import spec
from tvm_trt.runtime import Subgraph, engine

pytestmark = pytest.mark.skipif(not tensorrt.available(), reason="needs a TensorRT library")


def test_eight_threads_share_a_model():
    mod = make_module(
        lambda x: relax.op.nn.relu(relax.op.multiply(x, relax.const(np.float32(2)))), {"x": ((4,), "float32")}
    )
    pmod, _ = tvm_trt.partition_for_tensorrt(mod)
    # JIT-link once: VirtualMachine(executable) exports and reloads it, which TVM does not
    # make thread-safe (concurrent exports abort).
    lib = tvm_trt.build(pmod, "llvm").jit()
    tvm_trt.runtime.reset()
    errors = []

    def work(seed):
        # One VM per thread (TVM's VM keeps its program counter in the instance); the library,
        # our subgraph and its engine are shared.
        vm = relax.VirtualMachine(lib, tvm.cpu())
        rng = np.random.default_rng(seed)
        try:
            for _ in range(200):
                x = rng.standard_normal(4).astype("float32")
                got = vm["main"](tvm.runtime.tensor(x)).numpy()
                np.testing.assert_allclose(got, np.maximum(2 * x, 0), rtol=1e-6)
        except Exception as err:  # reported below: assertions in threads do not fail the test
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    stats = tvm_trt.runtime_stats()
    assert stats["executions"] == 1600 and stats["engines_built"] == 1 and stats["engines_held"] == 1


def test_wrong_input_shape_through_the_vm():
    pmod, _ = tvm_trt.partition_for_tensorrt(dynamic_conv())
    vm = relax.VirtualMachine(tvm_trt.build(pmod, "llvm"), tvm.cpu())
    with pytest.raises(Exception) as info:  # the VM checks the signature first
        vm["main"](tvm.runtime.tensor(np.zeros((2, 3, 5, 5), "float32")))
    assert "param=x" in str(info.value) and "(n, 3, 6, 6)" in str(info.value)


def test_wrong_input_names_subgraph_input_and_expected_shape():
    pmod, _ = tvm_trt.partition_for_tensorrt(conv_softmax())
    (func,) = tvm_trt.partition.offloaded_functions(pmod).values()
    sub, weights = spec.from_function(func, "sg_test", tvm_trt.partition.default_config())
    subgraph = Subgraph("k", spec.pack(sub)[1], weights)
    from tvm_trt.runtime.dlpack import TensorRef

    with pytest.raises(
        ValueError,
        match=r"subgraph sg_test: input 0 \(.*\) has shape \[2, 3, 9, 8\] float32, "
        r"expected \[2, 3, 8, 8\] float32",
    ):
        subgraph.check_inputs([TensorRef(0, 1, 0, (2, 3, 9, 8), "float32")])
    with pytest.raises(ValueError, match="float16, expected"):
        subgraph.check_inputs([TensorRef(0, 1, 0, (2, 3, 8, 8), "float16")])
    with pytest.raises(ValueError, match="got 2 inputs, expected 1"):
        subgraph.check_inputs([TensorRef(0, 1, 0, (2, 3, 8, 8), "float32")] * 2)


def test_build_failure_names_subgraph_and_leaves_no_cache_entry(cache_dir):
    # A profile that contradicts the network's static dims: TensorRT refuses the build.
    pmod, _ = tvm_trt.partition_for_tensorrt(dynamic_conv())
    (func,) = tvm_trt.partition.offloaded_functions(pmod).values()
    sub, weights = spec.from_function(func, "sg_bad", tvm_trt.partition.default_config())
    subgraph = Subgraph("k", spec.pack(sub)[1], weights)
    with pytest.raises(engine.EngineBuildError, match=r"subgraph sg_bad: .*Dimension mismatch for tensor input_0"):
        subgraph.plan_for(((8, 3, 7, 7),), engine.BuildSettings(use_fp16=False, max_workspace_size=1 << 20))
    assert not cache_dir.exists() or not list(cache_dir.iterdir())


def test_partition_flag_embeds_plans_and_dynamic_falls_back(caplog):
    pmod, config = tvm_trt.partition_for_tensorrt(conv_softmax(), build_at_compile_time=True)
    assert config["build_at_compile_time"]
    args = random_inputs({"x": ((2, 3, 8, 8), "float32")})
    vm = relax.VirtualMachine(tvm_trt.build(pmod, "llvm"), tvm.cpu())
    tvm_trt.runtime.reset()
    vm["main"](tvm.runtime.tensor(args[0]))
    stats = tvm_trt.runtime_stats()
    assert stats["engines_built"] == 0 and stats["engines_from_library"] == 1

    dpmod, _ = tvm_trt.partition_for_tensorrt(dynamic_conv(), build_at_compile_time=True)
    with caplog.at_level(logging.WARNING, logger="tvm_trt"):
        ex = tvm_trt.build(dpmod, "llvm")
    assert any("built at run time" in r.getMessage() for r in caplog.records)
    tvm_trt.runtime.reset()
    relax.VirtualMachine(ex, tvm.cpu())["main"](tvm.runtime.tensor(np.ones((3, 3, 6, 6), "float32")))
    assert tvm_trt.runtime_stats()["engines_built"] == 1


def test_engine_refused_here_carries_tensorrt_reason():
    """No GPU here can run an engine: the error says why (TensorRT's words) and names the
    reference executor."""
    if tvm.cuda(0).exist:
        pytest.skip("a GPU is present; deserialisation may succeed")
    pmod, _ = tvm_trt.partition_for_tensorrt(make_module(relax.op.nn.relu, {"x": ((1, 4), "float32")}))
    ((name, func),) = tvm_trt.partition.offloaded_functions(pmod).items()
    sub, weights = spec.from_function(func, name, {"max_workspace_size": 1 << 20})
    plan = engine.build_plan(sub, weights, ((1, 4),), engine.BuildSettings(use_fp16=False, max_workspace_size=1 << 20))
    with pytest.raises(RuntimeError) as info:
        engine.Engine(plan, name)
    message = str(info.value)
    assert name in message and "Error Code" in message and "TVM_TENSORRT_EXECUTOR=reference" in message


def test_build_errors_are_collected_per_thread():
    """Concurrent builds share TensorRT's logger: each build keeps only its own thread's errors."""
    log = logging.getLogger("tvm_trt.tensorrt")
    with engine._tensorrt_errors() as messages:
        other = threading.Thread(target=log.error, args=("from another build",))
        other.start()
        other.join()
        log.error("from this build")
    assert messages == ["from this build"]
