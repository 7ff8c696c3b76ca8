"""Shared by test_model_families_vision / _transformers (two files so that `-n 2 --dist loadfile` runs them
side by side): model families beyond test_modern_models (tvm_trt.testing.torch_zoo_families: ultralytics YOLO, timm,
torchvision CNNs, CLIP, T5, text encoders, speech, SegFormer, HF vision transformers, decoder-only LMs, diffusers,
torchvision video, MaxViT), one model per class of risk, random weights, small configs, through ONNX (opset 17).

The bar is TensorRT's own ONNX parser on the same file: where it takes the model whole, we offload
it as one subgraph with nothing left in TVM; elsewhere at least its share of the graph. The numbers
of the built TensorRT-RTX plans (reference executor) equal onnxruntime's. A model that misses the
bar for a known class of gap is a strict xfail naming the class, so that it fails once fixed.

The exports are kept on disk (TVM_TRT_ZOO_ONNX_DIR, else a session tmp dir): one per model.
"""

import os

import numpy as np
import pytest

import tvm
from tvm import relax

import tvm_trt
from tvm_trt.testing import torch_zoo, torch_zoo_families
from tvm_trt.report import partition_with_report

OPTIONS = dict(use_implicit_batch=False)
TOLERANCE = 1e-4  # relative to the output's largest magnitude
PACKAGES = {"ultralytics": "ultralytics", "timm": "timm", "diffusers": "diffusers"}

# model -> "<class>: <what is missing>" for the models that do not meet the bar yet (none today: the
# decoder-only LMs' symbolic vars from shape arithmetic are resolved by partition/known_dims.py).
KNOWN_GAPS = {}


# The families of each test file; every family in exactly one.
GROUPS = {
    "vision": ["ultralytics", "timm", "torchvision_cnn", "video"],
    "transformers": [
        "clip",
        "t5",
        "text_encoders",
        "speech",
        "segformer",
        "hf_vision",
        "decoder_only",
        "diffusers",
        "maxvit",
    ],
}
assert sorted(sum(GROUPS.values(), [])) == sorted(torch_zoo_families.FAMILIES), GROUPS


def family_params(group):
    """pytest params ``(family, name)`` of the models of GROUPS[group], known gaps marked strict xfail."""
    for family in GROUPS[group]:
        for name in torch_zoo_families.FAMILIES[family]:
            marks = [pytest.mark.slow]
            if name in KNOWN_GAPS:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[name]))
            yield pytest.param(family, name, id=name, marks=marks)


@pytest.fixture(scope="session")
def onnx_dir(tmp_path_factory):
    return os.environ.get("TVM_TRT_ZOO_ONNX_DIR") or str(tmp_path_factory.mktemp("zoo_onnx"))


def _exported(name, onnx_dir):
    """(ModelProto, example inputs) of ``name``, exported once and kept in ``onnx_dir``."""
    import onnx

    path = os.path.join(onnx_dir, f"{name}.onnx")
    if not os.path.exists(path):
        exported = torch_zoo.export(name)
        onnx.save(exported.onnx, path + ".tmp")
        np.savez(path + ".npz", **exported.inputs)
        os.replace(path + ".tmp", path)
    with np.load(path + ".npz") as inputs:
        return onnx.load(path), dict(inputs)


def check_model(family, name, onnx_dir):
    """At the parser's bar (one subgraph where it takes the model whole), numbers equal to onnxruntime's."""
    if family in PACKAGES:
        pytest.importorskip(PACKAGES[family])
    model, inputs = _exported(name, onnx_dir)
    parser = torch_zoo.trt_parser_coverage(model)
    mod, params = torch_zoo.import_onnx(model)
    pmod, _, report = partition_with_report(mod, params, **OPTIONS)
    if parser.subgraphs == 1 and parser.coverage == 1.0:
        assert report.rejected == [] and len(report.subgraphs) == 1 and report.coverage == 1.0, str(report)
    else:
        assert report.coverage >= parser.coverage, (parser, str(report))
    # No TVM twin of the subgraph (fallback): compiling it is TVM's own work, half of a test's time, and
    # tests/runtime covers the fallback path.
    vm = relax.VirtualMachine(tvm_trt.build(pmod, "llvm", fallback=False), tvm.cpu())
    got = vm["main"](*[tvm.runtime.tensor(v) for v in inputs.values()])
    got = got.numpy() if isinstance(got, tvm.runtime.Tensor) else got[0].numpy()
    want = torch_zoo.run_onnxruntime(model, inputs)
    assert got.shape == want.shape
    scale = max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(got, want, rtol=TOLERANCE, atol=TOLERANCE * scale)
