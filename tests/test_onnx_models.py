"""Real ONNX graphs end to end: a transformer block (LayerNorm, attention MatMuls, Softmax,
erf-GELU) and a Gemm/ReLU MLP partition into one subgraph (per the report) and match ONNX's
own reference evaluation through TensorRT-RTX plans + the reference executor."""

import numpy as np
import pytest
import tvm
from onnx.reference import ReferenceEvaluator
from tvm import relax

import tvm_trt
from tvm_trt.testing import zoo

MODELS = {
    "transformer_block": (lambda: zoo.transformer_block(seq=16, dim=32, heads=2, ffn=64), (1, 16, 32)),
    "mlp": (lambda: zoo.mlp(batch=4, dims=(20, 16, 12, 10)), (4, 20)),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_onnx_model_offloaded_and_matches_onnx(name):
    make, shape = MODELS[name]
    model = make()
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    (want,) = ReferenceEvaluator(model).run(None, {"x": x})

    mod, params = tvm_trt.frontend.from_onnx(model)
    report = tvm_trt.partition_report(mod, params)
    assert report.rejected == [], str(report)
    assert len(report.subgraphs) == 1 and report.coverage == 1.0, str(report)

    pmod, _ = tvm_trt.partition_for_tensorrt(mod, params)
    vm = relax.VirtualMachine(tvm_trt.build(pmod, "llvm"), tvm.cpu())
    got = vm["main"](tvm.runtime.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
