"""Calls from a library into our Python, counted by runtime_stats()["python_calls"]: one per
subgraph call on every path (TensorRT, the reference executor, TVM's twin after a fallback), none
per weight; a stub whose subgraph fell back does not enter Python at all. And the VM's own work
per weight on the fallback path: no instruction (the weights are bound to the twin once)."""

import warnings

import numpy as np
import pytest
import tvm
from tvm import relax

import tvm_trt
from tvm_trt.runtime import fallback, reset

from harness import make_module

CALLS = 3
WEIGHTS_PER_SUBGRAPH = 2


def _two_subgraphs():
    """matmul+relu x2 | sort (stays in TVM) | matmul+relu x2: two subgraphs of two weights each."""
    rng = np.random.default_rng(0)
    ws = [relax.const((rng.standard_normal((8, 8)) / 3).astype("float32")) for _ in range(4)]

    def body(x):
        x = relax.op.nn.relu(relax.op.matmul(relax.op.nn.relu(relax.op.matmul(x, ws[0])), ws[1]))
        x = relax.op.sort(x, axis=1)
        return relax.op.nn.relu(relax.op.matmul(relax.op.nn.relu(relax.op.matmul(x, ws[2])), ws[3]))

    return make_module(body, {"x": ((2, 8), "float32")})


@pytest.fixture(scope="module")
def model():
    mod = _two_subgraphs()
    pmod, config = tvm_trt.partition_for_tensorrt(mod)
    assert len(tvm_trt.partition.offloaded_functions(pmod)) == 2
    x = np.random.default_rng(1).standard_normal((2, 8)).astype("float32")
    want = relax.VirtualMachine(tvm.compile(mod, "llvm"), tvm.cpu())["main"](tvm.runtime.tensor(x)).numpy()
    return tvm_trt.build(pmod, "llvm", config), x, want


def _steady_calls(ex, x, want):
    """Python calls per inference once warm (the first call loads the subgraphs)."""
    vm = relax.VirtualMachine(ex, tvm.cpu())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fallback.TensorRTFallbackWarning)
        np.testing.assert_allclose(vm["main"](tvm.runtime.tensor(x)).numpy(), want, rtol=1e-5, atol=1e-5)
        before = tvm_trt.runtime_stats()
        for _ in range(CALLS):
            np.testing.assert_allclose(vm["main"](tvm.runtime.tensor(x)).numpy(), want, rtol=1e-5, atol=1e-5)
    after = tvm_trt.runtime_stats()
    return {k: after[k] - before[k] for k in ("python_calls", "executions", "fallback_executions")}


def test_reference_executor_one_call_per_subgraph_call(model, monkeypatch):
    monkeypatch.setenv("TVM_TENSORRT_EXECUTOR", "reference")
    reset()
    delta = _steady_calls(*model)
    assert delta == {"python_calls": 2 * CALLS, "executions": 2 * CALLS, "fallback_executions": 0}


def test_fallback_one_call_per_subgraph_call_none_per_weight(model, monkeypatch):
    """TensorRT cannot run on host tensors: both subgraphs fall back on the first call; then each
    inference enters Python once per subgraph (its weights as one tuple), not once per weight,
    and the stubs themselves stay in compiled code."""
    monkeypatch.delenv("TVM_TENSORRT_EXECUTOR", raising=False)
    monkeypatch.delenv("TVM_TENSORRT_FALLBACK", raising=False)
    reset()
    delta = _steady_calls(*model)
    assert WEIGHTS_PER_SUBGRAPH > 1
    assert delta == {"python_calls": 2 * CALLS, "executions": 0, "fallback_executions": 2 * CALLS}
    reset()  # the state bytes go back to "TensorRT": the next process-level run tries TensorRT again
    monkeypatch.setenv("TVM_TENSORRT_EXECUTOR", "reference")
    assert _steady_calls(*model)["executions"] == 2 * CALLS


def _instructions(text: str, function: str):
    """The VM instructions of ``function`` in an executable's text form."""
    body = text.split(f"@{function}:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[1] for line in body.splitlines() if line.strip().startswith("call")]


def test_fallback_path_has_no_instruction_per_weight(model):
    """main calls the twin through one bound closure (no tuple_getitem / kill per weight) and the
    twin checks its inputs, not its weights (``num_input``): a count, stable where times are not."""
    ex = model[0]
    text = ex.as_text()
    main = _instructions(text, "main")
    twin = _instructions(text, "tensorrt_0_tvm")
    assert "vm.builtin.tuple_getitem" not in main
    assert main.count("tvm_trt.weights") == 2 and main.count("vm.builtin.invoke_closure") == 2
    # one input (x: 2x8), WEIGHTS_PER_SUBGRAPH weights: only the input is checked
    assert twin.count("vm.builtin.check_tensor_info") == 1
