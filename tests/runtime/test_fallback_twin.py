"""TVM's twin of a fallen-back subgraph, called through one closure that binds its weights once per VM:
outputs equal TVM's own build for symbolic dims and several outputs, each VM binds its own, and the
weights are placed once, not per call."""

import warnings

import numpy as np
import pytest
import tvm
from tvm import relax

import tvm_trt
from tvm_trt.runtime import fallback

from harness import make_module

FORMS = {
    "static": ((4, 8), False),
    "symbolic_batch": (("n", 8), False),
    "two_outputs": ((4, 8), True),
}


def _model(shape, two_outputs):
    rng = np.random.default_rng(0)
    w1, w2 = (relax.const((rng.standard_normal((8, 8)) / 3).astype("float32")) for _ in range(2))
    dims = [tvm.tirx.Var(d, "int64") if isinstance(d, str) else d for d in shape]

    def body(x):
        a = relax.op.nn.relu(relax.op.matmul(x, w1))
        b = relax.op.nn.relu(relax.op.add(relax.op.matmul(a, w2), relax.const(np.float32(0.1))))
        return [a, b, relax.Tuple([a, b])] if two_outputs else [a, b]

    return make_module(body, {"x": (dims, "float32")})


def _outputs(value):
    return [value.numpy()] if hasattr(value, "numpy") else [v.numpy() for v in value]


@pytest.mark.parametrize("form", FORMS)
def test_twin_through_its_bound_closure_equals_tvm(form, tensorrt_executor):
    shape, two_outputs = FORMS[form]
    mod = _model(shape, two_outputs)
    pmod, config = tvm_trt.partition_for_tensorrt(mod)
    assert len(tvm_trt.partition.offloaded_functions(pmod)) == 1
    ours = tvm_trt.build(pmod, "llvm", config)
    plain = relax.VirtualMachine(tvm.compile(mod, "llvm"), tvm.cpu())
    batches = (3, 5) if form == "symbolic_batch" else (shape[0],)
    vms = [relax.VirtualMachine(ours, tvm.cpu()) for _ in range(2)]  # each binds the twin's weights once
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fallback.TensorRTFallbackWarning)
        for batch in batches:
            x = tvm.runtime.tensor(np.random.default_rng(batch).standard_normal((batch, 8)).astype("float32"))
            want = _outputs(plain["main"](x))
            for vm in vms:
                for _ in range(2):
                    got = _outputs(vm["main"](x))
                    assert len(got) == len(want)
                    for g, w in zip(got, want):
                        np.testing.assert_array_equal(g, w)
    stats = tvm_trt.runtime_stats()
    assert stats["executions"] == 0 and stats["fallback_executions"] == 2 * 2 * len(batches)
    assert len(fallback._bound) == 2  # one binding per VM, made on its first call
    assert len(fallback._tensors) == 1  # the weights placed once (host views here), shared by both VMs
