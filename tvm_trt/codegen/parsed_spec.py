"""The spec of a parsed function (``core/parsed_marks.py``): its inputs and outputs as ours, no op
nodes, and one weight, the ONNX model's bytes (weights included): stored once in the library's
weights object like any subgraph's weights."""

from __future__ import annotations

import json
from typing import Dict, List, Tuple

import numpy as np
from tvm import relax

from ..core import ir
from ..core.parsed_marks import PARSED_ATTR, SPEC_KEY
from ..core.spec_format import FORMAT
from . import weights_writer


def spec_of(func: relax.Function, symbol: str, config: Dict) -> Tuple[Dict, List[np.ndarray]]:
    names = json.loads(str(func.attrs[PARSED_ATTR]))
    call = func.body.body if isinstance(func.body, relax.SeqExpr) else func.body
    while isinstance(call, relax.Var):  # a body that binds the call, then returns its var
        call = next(b.value for blk in func.body.blocks for b in blk.bindings if b.var.same_as(call))
    model = np.require(weights_writer.as_array(call.args[1]), requirements="C")
    spec = {
        "format": FORMAT,
        "symbol": symbol,
        SPEC_KEY: names,
        "inputs": [{"name": str(p.name), "shape": ir.dims(p.ty), "dtype": str(p.ty.dtype)} for p in func.params],
        "skip_args": [],
        # The declared result: the body's call carries no type until the module is normalised (only
        # the fallback's rewrite of main did that; without it the stub lost its output arguments).
        "outputs": [{"shape": ir.dims(t), "dtype": str(t.dtype)} for t in ir.tensors_of(func.ret_ty)],
        "nodes": [],
        "results": [],
        "weights": [{"shape": list(model.shape), "dtype": "uint8", "offset": 0}],
        "weights_bytes": int(model.nbytes),
        "weights_digest": weights_writer.digest([model]),
        "config": config,
    }
    return spec, [model]
