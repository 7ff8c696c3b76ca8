"""Which integer inputs index a table (token ids into an embedding): their valid range, for random inputs.

``tvm-trt run`` makes random inputs when none are given; ids drawn from a normal distribution are
mostly 0 (or out of range), so ``compile`` records, for every integer input that reaches the indices
of a ``take`` (ONNX Gather) through shape-only ops, the size of the table's indexed axis.
"""

from __future__ import annotations

from typing import Dict

import tvm
from tvm import relax

# ops that move indices around without changing their values
_PASS_THROUGH = {
    "relax.astype",
    "relax.reshape",
    "relax.expand_dims",
    "relax.squeeze",
    "relax.flatten",
    "relax.permute_dims",
    "relax.broadcast_to",
}


def index_ranges(mod) -> Dict[str, int]:
    main = mod["main"]
    origin = {p: p.name for p in main.params if str(getattr(p.ty, "dtype", "")).startswith(("int", "uint"))}
    ranges: Dict[str, int] = {}
    for block in main.body.blocks:
        for binding in block.bindings:
            value = binding.value
            if not isinstance(value, relax.Call) or not isinstance(value.op, tvm.ir.Op):
                continue
            name = value.op.name
            if name in _PASS_THROUGH and value.args and value.args[0] in origin:
                origin[binding.var] = origin[value.args[0]]
            elif name in ("relax.where", "relax.add") and any(a in origin for a in value.args):
                # ONNX Gather's negative-index wrap: where(ids < 0, ids + n, ids)
                origin[binding.var] = next(origin[a] for a in value.args if a in origin)
            elif name == "relax.take" and len(value.args) >= 2 and value.args[1] in origin:
                axis = int(value.attrs.axis) if value.attrs.axis is not None else 0
                shape = getattr(value.args[0].ty, "shape", None)
                try:
                    size = int(shape[axis if axis >= 0 else axis + len(shape)])
                except (TypeError, ValueError, IndexError):
                    continue  # a symbolic or unknown table size
                key = origin[value.args[1]]
                ranges[key] = min(size, ranges.get(key, size))
    return ranges
