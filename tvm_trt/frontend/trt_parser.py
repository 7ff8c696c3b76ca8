"""The second front door: an ONNX model TVM's importer refuses, run whole by TensorRT's own parser.

``from_onnx(..., tensorrt_parser=None)`` offers such a model to ``trt.OnnxParser``; when the
parser takes every node, the model becomes a module whose ``main`` calls one offloaded
function, ``tensorrt_0``, whose network is the parser's (``core.parsed_marks``). Limits:
TVM cannot run that function (no fallback: on a GPU TensorRT cannot run, it fails); its dynamic
dims get optimization profiles as ours do, but an output dim the parser cannot tie to an input
dim must be made static with ``shape=``.
"""

from __future__ import annotations

import json
import re
from typing import Dict, List, Optional, Tuple

import numpy as np

from ._common import ShapeDict, _copy_proto

ONNX_TYPES = {
    1: "float32",
    2: "uint8",
    3: "int8",
    5: "int16",
    6: "int32",
    7: "int64",
    9: "bool",
    10: "float16",
    11: "float64",
    16: "bfloat16",
}


def parser_coverage(data: bytes) -> Tuple[int, List[int]]:
    """(nodes, sizes of the groups TensorRT's parser reports supported)."""
    import onnx

    from ..core import tensorrt

    trt, logger = tensorrt.trt(), tensorrt.get_logger()
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # held: the parser keeps a pointer to it
    parser = trt.OnnxParser(network, logger)
    parser.supports_model_v2(data)
    groups = [len(parser.get_subgraph_nodes(i)) for i in range(parser.num_subgraphs) if parser.is_subgraph_supported(i)]
    return len(onnx.load_from_string(data).graph.node), groups


def refusal(data: bytes) -> Optional[str]:
    """None when the parser takes the model whole, else what it takes (one line)."""
    nodes, groups = parser_coverage(data)
    if groups == [nodes]:
        return None
    return (
        f"TensorRT's ONNX parser does not take it whole either ({len(groups)} supported group"
        f"{'s' if len(groups) != 1 else ''}, {sum(groups)} of {nodes} nodes)"
    )


def _with_shapes(model, shape: Optional[ShapeDict]):
    model = _copy_proto(model)
    for value in model.graph.input:
        if shape and value.name in shape:
            dims = value.type.tensor_type.shape.dim
            del dims[:]
            for d in shape[value.name]:
                dims.add().dim_value = int(d)
    return model


def _dim(d, input_name: str, axis: int):
    if d.HasField("dim_value"):
        return int(d.dim_value)
    name = d.dim_param or f"{input_name}_{axis}"
    return re.sub(r"\W", "_", name) if not name[0].isdigit() else f"d_{name}"


def from_onnx(model, shape: Optional[ShapeDict], name: str):
    """``(mod, {})``: ``main`` calls ``tensorrt_0``, the parser's network of ``model`` (whole)."""
    import tvm
    from tvm import relax

    from ..core import tensorrt
    from ..core.parsed_marks import PARSED_ATTR, PLACEHOLDER

    model = _with_shapes(model, shape)
    data = model.SerializeToString()
    reason = refusal(data)
    if reason:
        raise ValueError(f"{name}: {reason}")
    inits = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in inits]
    dims: Dict[str, tvm.tirx.Var] = {}

    def tir_dim(d):
        return d if isinstance(d, int) else dims.setdefault(d, tvm.tirx.Var(d, "int64"))

    params = []
    for value in inputs:
        ty = value.type.tensor_type
        shape_ = [tir_dim(_dim(d, value.name, k)) for k, d in enumerate(ty.shape.dim)]
        params.append(relax.Var(value.name, relax.TensorType(shape_, ONNX_TYPES[ty.elem_type])))
    outputs = _output_types(data, model, dims, name)
    ret = outputs[0] if len(outputs) == 1 else relax.TupleType(outputs)
    weights = relax.const(np.frombuffer(data, dtype="uint8"))
    names = {"inputs": [v.name for v in inputs], "outputs": [o.name for o in model.graph.output]}
    fparams = [relax.Var(p.name, p.ty) for p in params]
    body = relax.op.call_pure_packed(PLACEHOLDER, weights, *fparams, ty_args=ret)
    func = relax.Function(fparams, body, ret).with_attrs(
        {
            "Codegen": "tensorrt",
            "global_symbol": "tensorrt_0",
            PARSED_ATTR: json.dumps(names),
            "tvm_trt.onnx_parser_version": ".".join(map(str, tensorrt.version() or ())),
        }
    )
    bb = relax.BlockBuilder()
    gv = bb.add_func(func, "tensorrt_0")
    with bb.function("main", params):
        out = bb.emit(relax.Call(gv, params))
        bb.emit_func_output(out)
    mod = bb.get()
    mod["main"] = mod["main"].with_attr("num_input", len(params))
    return mod, {}


def _output_types(data: bytes, model, dims, name: str):
    """Each output's TensorType from the parsed network; a dynamic dim is named after the
    input dim it equals under ONNX shape inference, else the model needs static shapes."""
    import onnx
    from tvm import relax

    from ..core import tensorrt
    from ..core.dtypes import np_dtype

    trt, logger = tensorrt.trt(), tensorrt.get_logger()
    network = trt.Builder(logger).create_network(0)
    parser = trt.OnnxParser(network, logger)
    parser.parse(data)
    inferred = {}
    try:
        inferred = {o.name: o for o in onnx.shape_inference.infer_shapes(model).graph.output}
    except Exception:  # the model's own output types stand
        inferred = {o.name: o for o in model.graph.output}
    out = []
    for i in range(network.num_outputs):
        tensor = network.get_output(i)
        onnx_dims = list(inferred[tensor.name].type.tensor_type.shape.dim) if tensor.name in inferred else []
        shape = []
        for axis, d in enumerate(tensor.shape):
            if d >= 0:
                shape.append(int(d))
                continue
            param = onnx_dims[axis].dim_param if axis < len(onnx_dims) else ""
            if param not in dims:
                raise ValueError(
                    f"{name}: output {tensor.name} axis {axis} has a size TensorRT computes at run "
                    "time from no input dim; give static input shapes (shape=...)"
                )
            shape.append(dims[param])
        out.append(relax.TensorType(shape, str(np_dtype(tensor.dtype))))
    return out
