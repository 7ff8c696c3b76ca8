"""torchvision / transformers models (random weights) through ONNX: one TensorRT subgraph,
nothing left in TVM (TensorRT's own ONNX parser takes each whole too), numbers equal to
onnxruntime's through TensorRT-RTX plans + the reference executor.

Sizes are the smallest honest ones for a 2-core CI machine: batch 1 (and 3 for the dynamic
batch), 64x64 images for the CNNs and ViT (Swin-T at 224x224: at smaller sizes its windows
need padding, which TVM's importer emits as a TIR kernel that no TensorRT converter can take),
every layer of every model, sequences of 32 tokens except BERT-base (128, as asked).
"""

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("onnxruntime")

import tvm  # noqa: E402
from tvm import relax  # noqa: E402

import tvm_trt  # noqa: E402
from tvm_trt.testing import torch_zoo  # noqa: E402

# name -> (export options, tolerance relative to the output's largest magnitude)
CASES = {
    "resnet50": (dict(image=64), 1e-4),
    "mobilenet_v3_large": (dict(image=64), 1e-4),
    "efficientnet_b0": (dict(image=64), 1e-4),
    "convnext_tiny": (dict(image=64), 1e-4),
    "vit_b_16": (dict(image=64), 1e-4),
    "swin_t": (dict(image=224), 1e-4),
    "deeplabv3_mobilenet_v3_large": (dict(image=64), 1e-4),
    "bert": (dict(seq=128), 1e-4),
    "distilbert": (dict(seq=32), 1e-4),
    "gpt2": (dict(seq=32), 1e-4),
}
# Explicit batch: the resolved default on TensorRT >= 7, where our networks are explicit-batch.
OPTIONS = dict(use_implicit_batch=False)


def _offloaded_whole(exported, **build_options):
    mod, params = torch_zoo.import_onnx(exported.onnx)
    report = tvm_trt.partition_report(mod, params, **OPTIONS)
    assert report.rejected == [], str(report)
    assert len(report.subgraphs) == 1 and report.coverage == 1.0, str(report)
    parser = torch_zoo.trt_parser_coverage(exported.onnx)
    assert parser.subgraphs == 1 and report.coverage >= parser.coverage, parser
    pmod, config = tvm_trt.partition_for_tensorrt(mod, params, **OPTIONS)
    return relax.VirtualMachine(tvm_trt.build(pmod, "llvm", **build_options), tvm.cpu())


def _check(vm, exported, inputs, tol):
    got = vm["main"](*[tvm.runtime.tensor(v) for v in inputs.values()])
    got = got.numpy() if isinstance(got, tvm.runtime.Tensor) else got[0].numpy()
    want = torch_zoo.run_onnxruntime(exported.onnx, inputs)
    assert got.shape == want.shape
    scale = max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * scale)


@pytest.mark.parametrize("name", list(CASES))
def test_model_one_subgraph_matches_onnxruntime(name):
    options, tol = CASES[name]
    exported = torch_zoo.export(name, **options)
    vm = _offloaded_whole(exported)
    _check(vm, exported, exported.inputs, tol)


def _batched(inputs, batch):
    return {k: np.concatenate([v] * batch) if batch > 1 else v for k, v in inputs.items()}


@pytest.mark.parametrize(
    "name,options", [("resnet50", dict(image=64)), ("bert", dict(seq=32))], ids=["resnet50", "bert"]
)
def test_dynamic_batch(name, options):
    exported = torch_zoo.export(name, dynamic_batch=True, **options)
    # fallback=False: TVM's own compile of the offloaded function (the fallback) cannot legalize a
    # reshape whose symbolic target shape arrives as a parameter (known gap, to be fixed there).
    vm = _offloaded_whole(exported, fallback=False)
    rng = np.random.default_rng(1)
    for batch in (1, 3):
        inputs = _batched(exported.inputs, batch)
        if "input_ids" in inputs:  # different rows per batch element
            inputs["input_ids"] = rng.integers(0, 1000, inputs["input_ids"].shape).astype("int64")
        else:
            inputs = {k: rng.standard_normal(v.shape).astype(v.dtype) for k, v in inputs.items()}
        _check(vm, exported, inputs, 1e-4)
