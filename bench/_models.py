"""Benchmark models: the Gluon zoo (random init, via ONNX) and small ONNX graphs built with onnx.helper."""

from __future__ import annotations

from _common import onnx_cache_dir

from tvm_trt.testing import torch_zoo, torch_zoo_families
from tvm_trt.testing.zoo import mlp, transformer_block

# More Gluon vision models that build offline with random weights, beyond tvm_trt.testing.zoo.GLUON_ZOO.
EXTRA_ZOO = ["resnet34_v1", "resnet50_v1", "mobilenet0.5", "squeezenet1.1", "densenet169", "vgg16"]


def zoo_module(name: str, batch: int = 1, image: int = 224):
    """(mod, params) of Gluon zoo model ``name`` (deterministic random weights), its ONNX export
    cached in onnx_cache_dir()."""
    from tvm_trt import frontend
    from tvm_trt.testing import zoo

    path = zoo.onnx_path_for(name, onnx_cache_dir(), batch=batch, image=image, choices=zoo.GLUON_ZOO + EXTRA_ZOO)
    return frontend.from_onnx(path, shape=zoo.input_shape(batch, image))


ONNX_MODELS = {"transformer_block": transformer_block, "mlp": mlp}

# torchvision / transformers models (random init, tvm_trt.testing.torch_zoo), full size: 224x224 images,
# sequences of 128 tokens, every layer. "<model>@dynbatch": axis 0 of the inputs symbolic. Then the
# other families (ultralytics, timm, CLIP, T5, speech, SegFormer, decoder-only, diffusers, video,
# MaxViT) at the small configs of tvm_trt.testing.torch_zoo_families.
FAMILY_MODELS = torch_zoo_families.MODELS
TORCH_MODELS = torch_zoo.MODELS + ["resnet50@dynbatch", "bert@dynbatch"] + FAMILY_MODELS


def torch_onnx(name: str):
    """The ONNX export of TORCH_MODELS entry ``name`` (kept in onnx_cache_dir())."""
    import os

    import onnx

    path = os.path.join(onnx_cache_dir(), f"torch_{name.replace('@', '_')}.onnx")
    if not os.path.exists(path):
        base, _, variant = name.partition("@")
        exported = torch_zoo.export(base, dynamic_batch=variant == "dynbatch")
        os.makedirs(onnx_cache_dir(), exist_ok=True)
        onnx.save(exported.onnx, path + ".tmp")
        os.replace(path + ".tmp", path)
    return onnx.load(path)


def onnx_module(name: str):
    from tvm_trt import frontend

    return frontend.from_onnx(ONNX_MODELS[name]())
