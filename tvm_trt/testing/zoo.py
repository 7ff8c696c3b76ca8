"""Randomly initialised Gluon model-zoo vision models for tests and benchmarks.

No pretrained weights are downloaded: every model is built with ``pretrained=False`` and
initialised deterministically from ``seed``: weights with a seeded ``mx.init.Xavier``, then
BatchNorm gamma/beta/running statistics (positive variances) and all biases are set to small
random values, so that batch-norm and bias handling are exercised with non-trivial
values rather than the identity (mean 0, var 1, gamma 1, beta 0, bias 0).

ONNX export through MXNet is slow (seconds per model); :func:`onnx_path_for` exports each
(model, batch, image, seed) once into a cache directory and reuses the file afterwards.
"""

from __future__ import annotations

import math
import os
import tempfile
from typing import Dict, Sequence, Tuple

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


def _check_name(name: str, choices: Sequence[str]) -> None:
    if name not in choices:
        raise ValueError(f"unknown zoo model {name!r}; choose one of {list(choices)}")


def build_gluon_model(
    name: str, batch: int = 1, image: int = 224, seed: int = 0, *, choices: Sequence[str] = GLUON_ZOO
):
    """Build and deterministically initialise a Gluon model-zoo vision model.

    Returns ``(block, shape_dict)``: an initialised, hybridized ``HybridBlock`` (already run
    once, so it can be exported) and ``{"data": (batch, 3, image, image)}``. The same
    ``(name, seed)`` gives the same weights in any process. ``choices`` are the accepted
    names (the benchmarks add more model-zoo models that build offline).
    """
    from ..frontend.mxnet import _import_mxnet

    mx = _import_mxnet()
    from mxnet.gluon.model_zoo import vision

    _check_name(name, choices)
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
    name: str, cache_dir, batch: int = 1, image: int = 224, seed: int = 0, *, choices: Sequence[str] = GLUON_ZOO
) -> str:
    """Path of the ONNX export of zoo model ``name``, exporting it only if not cached.

    The file is ``<cache_dir>/<name>_b<batch>_i<image>_s<seed>.onnx``; it is written to a
    temporary file and renamed into place, so concurrent test workers never see a partial
    file. Its single input is ``"data"`` with shape ``(batch, 3, image, image)``.
    """
    import onnx

    from ..frontend import mxnet_to_onnx

    _check_name(name, choices)
    cache_dir = os.fspath(cache_dir)
    os.makedirs(cache_dir, exist_ok=True)
    path = os.path.join(cache_dir, f"{name}_b{batch}_i{image}_s{seed}.onnx")
    if os.path.isfile(path):
        return path
    block, shape = build_gluon_model(name, batch=batch, image=image, seed=seed, choices=choices)
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


# ---- small ONNX graphs built with onnx.helper (no MXNet needed) ------------------------------

OPSET = 17  # LayerNormalization is an ONNX op from opset 17


def _init(rng, name, shape, scale=None):
    from onnx import numpy_helper

    scale = scale if scale is not None else 1.0 / math.sqrt(shape[0])
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


def transformer_block(seq: int = 128, dim: int = 256, heads: int = 4, ffn: int = 1024, seed: int = 0):
    """A pre-norm transformer encoder block: LayerNorm -> self-attention -> residual -> LayerNorm ->
    MatMul/Add -> erf-GELU -> MatMul/Add -> residual. Input ``x``: (1, seq, dim) float32."""
    from onnx import TensorProto, helper

    rng = np.random.default_rng(seed)
    hd = dim // heads
    inits = [
        _init(rng, "ln1_g", (dim,), 0.1),
        _init(rng, "ln1_b", (dim,), 0.1),
        _init(rng, "ln2_g", (dim,), 0.1),
        _init(rng, "ln2_b", (dim,), 0.1),
        _init(rng, "wq", (dim, dim)),
        _init(rng, "wk", (dim, dim)),
        _init(rng, "wv", (dim, dim)),
        _init(rng, "wo", (dim, dim)),
        _init(rng, "bo", (dim,), 0.1),
        _init(rng, "w1", (dim, ffn)),
        _init(rng, "b1", (ffn,), 0.1),
        _init(rng, "w2", (ffn, dim)),
        _init(rng, "b2", (dim,), 0.1),
    ]
    const = {
        "heads_shape": np.array([1, seq, heads, hd], np.int64),
        "flat_shape": np.array([1, seq, dim], np.int64),
        "scale": np.array(1.0 / math.sqrt(hd), np.float32),
        "half": np.array(0.5, np.float32),
        "one": np.array(1.0, np.float32),
        "rsqrt2": np.array(1.0 / math.sqrt(2.0), np.float32),
    }
    from onnx import numpy_helper

    inits += [numpy_helper.from_array(v, k) for k, v in const.items()]
    n = helper.make_node
    nodes = [
        n("LayerNormalization", ["x", "ln1_g", "ln1_b"], ["h"], axis=-1, epsilon=1e-5),
        n("MatMul", ["h", "wq"], ["q0"]),
        n("MatMul", ["h", "wk"], ["k0"]),
        n("MatMul", ["h", "wv"], ["v0"]),
        n("Reshape", ["q0", "heads_shape"], ["q1"]),
        n("Transpose", ["q1"], ["q"], perm=[0, 2, 1, 3]),
        n("Reshape", ["k0", "heads_shape"], ["k1"]),
        n("Transpose", ["k1"], ["kt"], perm=[0, 2, 3, 1]),
        n("Reshape", ["v0", "heads_shape"], ["v1"]),
        n("Transpose", ["v1"], ["v"], perm=[0, 2, 1, 3]),
        n("MatMul", ["q", "kt"], ["s0"]),
        n("Mul", ["s0", "scale"], ["s1"]),
        n("Softmax", ["s1"], ["p"], axis=-1),
        n("MatMul", ["p", "v"], ["a0"]),
        n("Transpose", ["a0"], ["a1"], perm=[0, 2, 1, 3]),
        n("Reshape", ["a1", "flat_shape"], ["a2"]),
        n("MatMul", ["a2", "wo"], ["o0"]),
        n("Add", ["o0", "bo"], ["o1"]),
        n("Add", ["x", "o1"], ["r1"]),
        n("LayerNormalization", ["r1", "ln2_g", "ln2_b"], ["h2"], axis=-1, epsilon=1e-5),
        n("MatMul", ["h2", "w1"], ["f0"]),
        n("Add", ["f0", "b1"], ["f1"]),
        n("Mul", ["f1", "rsqrt2"], ["g0"]),
        n("Erf", ["g0"], ["g1"]),
        n("Add", ["g1", "one"], ["g2"]),
        n("Mul", ["f1", "g2"], ["g3"]),
        n("Mul", ["g3", "half"], ["g4"]),
        n("MatMul", ["g4", "w2"], ["f2"]),
        n("Add", ["f2", "b2"], ["f3"]),
        n("Add", ["r1", "f3"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "transformer_block",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, seq, dim])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, seq, dim])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def mlp(batch: int = 32, dims=(784, 512, 256, 10), seed: int = 0):
    """Gemm + Relu layers, Softmax head: the classic ONNX MLP. Input ``x``: (batch, dims[0])."""
    from onnx import TensorProto, helper

    rng = np.random.default_rng(seed)
    nodes, inits, prev = [], [], "x"
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        inits += [_init(rng, f"w{i}", (b, a)), _init(rng, f"b{i}", (b,), 0.1)]
        nodes.append(helper.make_node("Gemm", [prev, f"w{i}", f"b{i}"], [f"g{i}"], transB=1))
        prev = f"g{i}"
        if i < len(dims) - 2:
            nodes.append(helper.make_node("Relu", [prev], [f"r{i}"]))
            prev = f"r{i}"
    nodes.append(helper.make_node("Softmax", [prev], ["y"], axis=-1))
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, dims[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, dims[-1]])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
