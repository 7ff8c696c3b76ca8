"""Randomly initialised Gluon model-zoo vision models for tests and benchmarks.

No pretrained weights are downloaded: every model is built with ``pretrained=False`` and
initialised deterministically from ``seed``: weights with a seeded ``mx.init.Xavier``, then
BatchNorm gamma/beta/running statistics (positive variances) and all biases are set to small
random values, so that batch-norm folding and bias handling are exercised with non-trivial
values rather than the identity (mean 0, var 1, gamma 1, beta 0, bias 0).

ONNX export through MXNet is slow (seconds per model); :func:`onnx_path_for` exports each
(model, batch, image, seed) once into a cache directory and reuses the file afterwards.
"""
from __future__ import annotations

import os
import tempfile
from typing import Dict, Tuple

import numpy as np

GLUON_ZOO = [
    "resnet18_v1",
    "resnet50_v2",
    "mobilenet1.0",
    "mobilenetv2_1.0",
    "vgg11",
    "squeezenet1.0",
    "densenet121",
]

INPUT_NAME = "data"

# SqueezeNet has no BatchNorm to renormalise activations: with the default Xavier its
# outputs are ~1e-4. He-style scaling (uniform, fan-in, magnitude 6) keeps them O(1).
_XAVIER_KWARGS = {"squeezenet1.0": {"factor_type": "in", "magnitude": 6}}


def input_shape(batch: int = 1, image: int = 224) -> Dict[str, Tuple[int, int, int, int]]:
    """The NCHW shape dict of a zoo model's single input."""
    return {INPUT_NAME: (int(batch), 3, int(image), int(image))}


def build_gluon_model(name: str, batch: int = 1, image: int = 224, seed: int = 0):
    """Build and deterministically initialise a Gluon model-zoo vision model.

    Returns ``(block, shape_dict)``: an initialised, hybridized ``HybridBlock`` (already run
    once, so it can be exported) and ``{"data": (batch, 3, image, image)}``. The same
    ``(name, seed)`` gives the same weights in any process.
    """
    from .frontend import _import_mxnet

    mx = _import_mxnet()
    from mxnet.gluon.model_zoo import vision

    if name not in GLUON_ZOO:
        raise ValueError(f"unknown zoo model {name!r}; choose one of {GLUON_ZOO}")
    shape = input_shape(batch, image)
    # A fresh NameManager makes parameter prefixes (e.g. "resnetv10_") independent of how
    # many models this process built before.
    with mx.name.NameManager():
        block = vision.get_model(name, pretrained=False)
    mx.random.seed(seed)
    block.initialize(mx.init.Xavier(**_XAVIER_KWARGS.get(name, {})), ctx=mx.cpu())
    block.hybridize()
    block(mx.nd.zeros(shape[INPUT_NAME]))  # resolves deferred parameter shapes

    rng = np.random.RandomState(seed)
    for pname, param in sorted(block.collect_params().items()):
        # Order by name so values do not depend on dict order; shapes are known by now.
        shp = param.shape
        if pname.endswith("running_mean"):
            value = rng.uniform(-0.2, 0.2, shp)
        elif pname.endswith("running_var"):
            value = rng.uniform(0.5, 1.5, shp)
        elif pname.endswith("gamma"):
            value = rng.uniform(0.8, 1.2, shp)
        elif pname.endswith(("beta", "bias")):  # zero biases would hide a dropped bias
            value = rng.uniform(-0.1, 0.1, shp)
        else:
            continue
        param.set_data(mx.nd.array(value.astype(np.float32)))
    return block, shape


def onnx_path_for(
    name: str, cache_dir, batch: int = 1, image: int = 224, seed: int = 0
) -> str:
    """Path of the ONNX export of zoo model ``name``, exporting it only if not cached.

    The file is ``<cache_dir>/<name>_b<batch>_i<image>_s<seed>.onnx``; it is written to a
    temporary file and renamed into place, so concurrent test workers never see a partial
    file. Its single input is ``"data"`` with shape ``(batch, 3, image, image)``.
    """
    import onnx

    from .frontend import mxnet_to_onnx

    if name not in GLUON_ZOO:
        raise ValueError(f"unknown zoo model {name!r}; choose one of {GLUON_ZOO}")
    cache_dir = os.fspath(cache_dir)
    os.makedirs(cache_dir, exist_ok=True)
    path = os.path.join(cache_dir, f"{name}_b{batch}_i{image}_s{seed}.onnx")
    if os.path.isfile(path):
        return path
    block, shape = build_gluon_model(name, batch=batch, image=image, seed=seed)
    model = mxnet_to_onnx(block, shape)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".onnx.tmp")
    os.close(fd)
    try:
        onnx.save(model, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
