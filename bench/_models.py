"""Benchmark models: the Gluon zoo (random init, via ONNX) and small ONNX graphs built with onnx.helper."""
from __future__ import annotations

import math
import os
from typing import Dict, Tuple

import numpy as np

from _common import onnx_cache_dir

OPSET = 17  # LayerNormalization is an ONNX op from opset 17


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
        _init(rng, "ln1_g", (dim,), 0.1), _init(rng, "ln1_b", (dim,), 0.1),
        _init(rng, "ln2_g", (dim,), 0.1), _init(rng, "ln2_b", (dim,), 0.1),
        _init(rng, "wq", (dim, dim)), _init(rng, "wk", (dim, dim)), _init(rng, "wv", (dim, dim)),
        _init(rng, "wo", (dim, dim)), _init(rng, "bo", (dim,), 0.1),
        _init(rng, "w1", (dim, ffn)), _init(rng, "b1", (ffn,), 0.1),
        _init(rng, "w2", (ffn, dim)), _init(rng, "b2", (dim,), 0.1),
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
        n("MatMul", ["h", "wq"], ["q0"]), n("MatMul", ["h", "wk"], ["k0"]), n("MatMul", ["h", "wv"], ["v0"]),
        n("Reshape", ["q0", "heads_shape"], ["q1"]), n("Transpose", ["q1"], ["q"], perm=[0, 2, 1, 3]),
        n("Reshape", ["k0", "heads_shape"], ["k1"]), n("Transpose", ["k1"], ["kt"], perm=[0, 2, 3, 1]),
        n("Reshape", ["v0", "heads_shape"], ["v1"]), n("Transpose", ["v1"], ["v"], perm=[0, 2, 1, 3]),
        n("MatMul", ["q", "kt"], ["s0"]), n("Mul", ["s0", "scale"], ["s1"]),
        n("Softmax", ["s1"], ["p"], axis=-1),
        n("MatMul", ["p", "v"], ["a0"]), n("Transpose", ["a0"], ["a1"], perm=[0, 2, 1, 3]),
        n("Reshape", ["a1", "flat_shape"], ["a2"]),
        n("MatMul", ["a2", "wo"], ["o0"]), n("Add", ["o0", "bo"], ["o1"]), n("Add", ["x", "o1"], ["r1"]),
        n("LayerNormalization", ["r1", "ln2_g", "ln2_b"], ["h2"], axis=-1, epsilon=1e-5),
        n("MatMul", ["h2", "w1"], ["f0"]), n("Add", ["f0", "b1"], ["f1"]),
        n("Mul", ["f1", "rsqrt2"], ["g0"]), n("Erf", ["g0"], ["g1"]), n("Add", ["g1", "one"], ["g2"]),
        n("Mul", ["f1", "g2"], ["g3"]), n("Mul", ["g3", "half"], ["g4"]),
        n("MatMul", ["g4", "w2"], ["f2"]), n("Add", ["f2", "b2"], ["f3"]), n("Add", ["r1", "f3"], ["y"]),
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


ONNX_MODELS = {"transformer_block": transformer_block, "mlp": mlp}


def onnx_module(name: str):
    from tvm_trt import frontend

    return frontend.from_onnx(ONNX_MODELS[name]())
