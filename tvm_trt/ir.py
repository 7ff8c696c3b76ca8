"""Small helpers over TVM 0.27 Relax IR (types, attrs, constants) shared by partition and codegen."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Union

import numpy as np
import tvm
from tvm import relax
from tvm.ir.prim.expr import FloatImm, IntImm  # 0.27 keeps prim imms here

Dim = Union[int, str]  # static extent, or the name of a symbolic dim


def is_constant(expr) -> bool:
    """A tensor constant (weights); IntImm/FloatImm are Constants too in 0.27 but hold scalars."""
    return isinstance(expr, tvm.ir.expr.Constant) and isinstance(
        getattr(expr, "value", None), tvm.runtime.Tensor
    )


def const_value(expr) -> np.ndarray:
    return expr.value.numpy()


def is_tensor(expr) -> bool:
    return isinstance(getattr(expr, "ty", None), relax.TensorType)


def dims(ty) -> Optional[List[Dim]]:
    """Shape of a TensorType as ints, with symbolic dims by name; None when the rank is unknown."""
    shape = getattr(ty, "shape", None)
    if not isinstance(shape, relax.ShapeExpr):
        return None
    return [prim_to_py(v) for v in shape.values]


def ndim(ty) -> int:
    """Rank of a TensorType (-1 when unknown)."""
    return int(getattr(ty, "ndim", -1))


def prim_to_py(v) -> Any:
    if isinstance(v, IntImm):
        return int(v.value)
    if isinstance(v, FloatImm):
        return float(v.value)
    return str(v)


def tensor_types(expr) -> List[relax.TensorType]:
    """The TensorTypes of an expr's value: one for a tensor, several for a tuple."""
    ty = expr.ty
    if isinstance(ty, relax.TensorType):
        return [ty]
    if isinstance(ty, relax.TupleType):
        out = []
        for field in ty.fields:
            out += [field] if isinstance(field, relax.TensorType) else []
        return out
    return []


def to_py(value) -> Any:
    """Attr values -> JSON-able Python values."""
    if isinstance(value, str):
        return str(value)  # also tvm_ffi's String
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, dict) or type(value).__name__ == "Map":
        return {str(k): to_py(v) for k, v in value.items()}
    if isinstance(value, (IntImm, FloatImm)):
        return prim_to_py(value)
    if isinstance(value, (list, tuple)) or type(value).__name__ == "Array":
        return [to_py(v) for v in value]
    if isinstance(value, tvm.ir.StringImm):
        return str(value.value)
    return str(value)


def attrs_to_dict(attrs) -> Dict[str, Any]:
    if attrs is None:
        return {}
    out = {}
    for name in dir(attrs):
        if name.startswith("_") or name in ("id_", "handle"):
            continue
        value = getattr(attrs, name)
        if callable(value):
            continue
        out[name] = to_py(value)
    return out
