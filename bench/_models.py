"""Benchmark models: the Gluon zoo (random init, via ONNX) and small ONNX graphs built with onnx.helper."""
from __future__ import annotations

import os
import numpy as np

from _common import onnx_cache_dir

from tvm_trt.zoo import mlp, transformer_block

# More Gluon vision models that build offline with random weights, beyond tvm_trt.zoo.GLUON_ZOO.
EXTRA_ZOO = ["resnet34_v1", "resnet50_v1", "mobilenet0.5", "squeezenet1.1", "densenet169", "vgg16"]


def zoo_module(name: str, batch: int = 1, image: int = 224):
    """(mod, params) of Gluon zoo model ``name`` (deterministic random weights)."""
    from tvm_trt import frontend, zoo

    if name in zoo.GLUON_ZOO:
        path = zoo.onnx_path_for(name, onnx_cache_dir(), batch=batch, image=image)
    else:
        path = _extra_onnx_path(name, batch, image)
    return frontend.from_onnx(path, shape=zoo.input_shape(batch, image))


def _extra_onnx_path(name: str, batch: int, image: int, seed: int = 0) -> str:
    """ONNX export of an EXTRA_ZOO model, initialised like tvm_trt.zoo (Xavier weights, random
    batch-norm statistics), cached next to the zoo's exports."""
    import onnx

    from tvm_trt import frontend, zoo

    if name not in EXTRA_ZOO:
        raise ValueError(f"unknown model {name!r}; choose one of {zoo.GLUON_ZOO + EXTRA_ZOO}")
    path = os.path.join(onnx_cache_dir(), f"{name}_b{batch}_i{image}_s{seed}.onnx")
    if os.path.isfile(path):
        return path
    mx = frontend._import_mxnet()
    from mxnet.gluon.model_zoo import vision

    shape = zoo.input_shape(batch, image)
    with mx.name.NameManager():
        block = vision.get_model(name, pretrained=False)
    mx.random.seed(seed)
    block.initialize(mx.init.Xavier(), ctx=mx.cpu())
    block.hybridize()
    block(mx.nd.zeros(shape[zoo.INPUT_NAME]))
    rng = np.random.RandomState(seed)
    ranges = {"running_mean": (-0.2, 0.2), "running_var": (0.5, 1.5), "gamma": (0.8, 1.2),
              "beta": (-0.1, 0.1), "bias": (-0.1, 0.1)}
    for pname, param in sorted(block.collect_params().items()):
        for suffix, (lo, hi) in ranges.items():
            if pname.endswith(suffix):
                param.set_data(mx.nd.array(rng.uniform(lo, hi, param.shape).astype(np.float32)))
    os.makedirs(onnx_cache_dir(), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    onnx.save(frontend.mxnet_to_onnx(block, shape), tmp)
    os.replace(tmp, path)
    return path


ONNX_MODELS = {"transformer_block": transformer_block, "mlp": mlp}


def onnx_module(name: str):
    from tvm_trt import frontend

    return frontend.from_onnx(ONNX_MODELS[name]())
