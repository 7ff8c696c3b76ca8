"""Dynamic batch: one engine rebuilt for the largest batch (MULTI_ENGINE=0) or one per batch (=1)."""

import numpy as np
import pytest
import tvm
from tvm import relax

import tvm_trt
from runtime_models import dynamic_conv
from tvm_trt.core import tensorrt

pytestmark = pytest.mark.skipif(not tensorrt.available(), reason="needs a TensorRT library")

# batch -> (engines built so far, engines held) per mode
EXPECTED = {
    "0": {1: (1, 1), 4: (2, 1), 2: (2, 1), 8: (3, 1)},
    "1": {1: (1, 1), 4: (2, 2), 2: (3, 3), 8: (4, 4)},
}


@pytest.fixture(scope="module")
def compiled():
    mod = dynamic_conv()
    pmod, _ = tvm_trt.partition_for_tensorrt(mod, use_implicit_batch=True)
    assert len(tvm_trt.partition.offloaded_functions(pmod)) == 1
    return relax.VirtualMachine(tvm.compile(mod, "llvm"), tvm.cpu()), tvm_trt.build(pmod, "llvm")


@pytest.mark.parametrize("mode", ["0", "1"], ids=["one-engine", "multi-engine"])
def test_batches(compiled, mode, monkeypatch):
    llvm, ex = compiled
    monkeypatch.setenv("TVM_TENSORRT_MULTI_ENGINE", mode)
    tvm_trt.runtime.reset()
    vm = relax.VirtualMachine(ex, tvm.cpu())
    rng = np.random.default_rng(1)
    for batch in (1, 4, 2, 8, 2):
        x = rng.standard_normal((batch, 3, 6, 6)).astype("float32")
        got = vm["main"](tvm.runtime.tensor(x)).numpy()
        np.testing.assert_allclose(got, llvm["main"](tvm.runtime.tensor(x)).numpy(), rtol=1e-4, atol=1e-5)
        stats = tvm_trt.runtime_stats()
        if batch in EXPECTED[mode] and stats["executions"] <= 4:
            assert (stats["engines_built"], stats["engines_held"]) == EXPECTED[mode][batch], (batch, stats)
    (sg,) = tvm_trt.runtime._subgraphs.values()
    if mode == "0":
        (slot,) = sg.slots.values()
        assert slot.shapes == ((8, 3, 6, 6),) and stats["engines_freed"] == 2
    else:
        assert sorted(s[0][0] for s in sg.slots) == [1, 2, 4, 8] and stats["engines_freed"] == 0
    assert stats["executions"] == 5


def test_profile_spans_one_to_max_batch():
    spec = {"inputs": [{"shape": ["n", 3, 6, 6]}]}
    assert tvm_trt.runtime.engine.profile_for(spec, [(8, 3, 6, 6)]) == [((1, 3, 6, 6), (8, 3, 6, 6), (8, 3, 6, 6))]
    assert tvm_trt.runtime.engine.profile_for({"inputs": [{"shape": [2, 3]}]}, [(2, 3)]) is None
