"""Offloaded functions whose network is TensorRT's own ONNX parser's (the second front door, see
``tvm_trt.frontend.trt_parser``): their spec carries the ONNX model, not our op nodes.

The function is ``f(inputs) = call_pure_packed("tvm_trt.parsed_onnx", <model bytes>, inputs)``;
the model bytes (weights included) are its one constant, so they live in the library's weights
object like any subgraph's weights, once. At run time the network is rebuilt from those bytes
by ``trt.OnnxParser``, its inputs and outputs renamed ``input_i`` / ``output_i`` as ours are;
plans are built lazily and cached like ours. TVM cannot run such a function: it has no fallback.
"""
from __future__ import annotations

import json
from typing import Dict, List, Tuple

import numpy as np

from . import backend

PARSED_ATTR = "tvm_trt.onnx_parser"  # on the function: JSON {"inputs": [names], "outputs": [names]}
PLACEHOLDER = "tvm_trt.parsed_onnx"


def is_parsed(func) -> bool:
    return func.attrs is not None and func.attrs.get(PARSED_ATTR) is not None


def spec_of(func, symbol: str, config: Dict) -> Tuple[Dict, List[np.ndarray]]:
    """The spec of a parsed function (as ``spec.from_function`` makes ours) and its one weight,
    the model bytes."""
    from tvm import relax

    from . import ir
    from . import weights as weights_mod

    names = json.loads(str(func.attrs[PARSED_ATTR]))
    call = func.body.body if isinstance(func.body, relax.SeqExpr) else func.body
    while isinstance(call, relax.Var):  # the body binds the call, then returns its var
        call = next(b.value for blk in func.body.blocks for b in blk.bindings if b.var.same_as(call))
    model = np.require(weights_mod.as_array(call.args[1]), requirements="C")
    types = ir.tensor_types(func.body.body)
    spec = {
        "format": 1,
        "symbol": symbol,
        "onnx": names,
        "inputs": [{"name": str(p.name), "shape": ir.dims(p.ty), "dtype": str(p.ty.dtype)} for p in func.params],
        "skip_args": [],
        "outputs": [{"shape": ir.dims(t), "dtype": str(t.dtype)} for t in types],
        "nodes": [],
        "results": [],
        "weights": [{"shape": list(model.shape), "dtype": "uint8", "offset": 0}],
        "weights_bytes": int(model.nbytes),
        "weights_digest": weights_mod.digest([model]),
        "config": config,
    }
    return spec, [model]


def build(spec: Dict, weights, builder, input_shapes=None):
    """The network TensorRT's ONNX parser makes of the model, named as ours are: -> (network, parser)."""
    trt = backend.trt()
    flags = 0
    if backend.flavour() == "tensorrt" and backend.version() < (10, 0, 0):
        flags = 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, backend.get_logger())
    if not parser.parse(bytes(np.asarray(weights[0]).data)):
        errors = "; ".join(parser.get_error(i).desc() for i in range(parser.num_errors)) or "no error given"
        raise RuntimeError(f"subgraph {spec['symbol']}: TensorRT's ONNX parser refused the model: {errors}")
    inputs = {network.get_input(i).name: network.get_input(i) for i in range(network.num_inputs)}
    for i, name in enumerate(spec["onnx"]["inputs"]):
        tensor = inputs[name]
        tensor.name = f"input_{i}"
        if input_shapes is not None:
            tensor.shape = tuple(input_shapes[i])
    outputs = {network.get_output(i).name: network.get_output(i) for i in range(network.num_outputs)}
    for i, name in enumerate(spec["onnx"]["outputs"]):
        outputs[name].name = f"output_{i}"
    return network, parser  # the parser keeps the weights TensorRT points into alive
