"""The checks every op's policy starts with: what TensorRT needs of any call, whatever the op.

An op's registration (``registry.register_op``) adds its own data to these (minimum TensorRT
version, dtypes) and its predicate; ``OpEntry.policy`` lists the whole chain in the order it is
asked. Each check is ``(call, opts) -> Optional[str]``, a reason or None, like a predicate.
"""

from __future__ import annotations

from typing import Callable, Iterable, List, Optional

import tvm
from tvm import relax

from . import dim_expr, ir

TensorCheck = Callable[..., Optional[str]]  # (tensor type, call, opts) -> reason or None


def tensor_types(call: relax.Call) -> List:
    """The tensor types of the call's arguments (tuples flattened), then of its result."""
    return [t for a in call.args for t in ir.tensor_types(a)] + ir.tensor_types(call)


# Ops whose output dims follow from input *values*: partition.value_shapes computes them in TVM
# before the call (the destination's shape), TensorRT computes them from its shape inputs.
VALUE_SHAPED = ("relax.dynamic_strided_slice",)


def _value_shaped_output(ty, call) -> bool:
    return call.op.name in VALUE_SHAPED and any(ty.same_as(t) for t in ir.tensor_types(call))


def output_shapes_from_inputs(call, opts) -> Optional[str]:
    if call.op.name in VALUE_SHAPED:
        return None
    if any(ir.dims(ty) is None and ir.ndim(ty) >= 0 for ty in ir.tensor_types(call)):
        return (
            f"{call.op.name}: output shape depends on the data (TensorRT needs output shapes computable "
            "from input shapes)"
        )
    return None


def tensor_arguments(call, opts) -> Optional[str]:
    """Arguments are tensors (or constants), except a symbolic dim passed as a slice bound."""
    dims = {
        v
        for t in tensor_types(call)
        for d in ir.dims(t) or []
        if dim_expr.try_parse(d) is None
        for v in dim_expr.vars_of(d)
    }
    for arg in call.args:
        for value in arg.fields if isinstance(arg, relax.Tuple) else [arg]:
            if (
                isinstance(value, relax.Var)
                and not ir.is_tensor(value)
                and not (isinstance(value.ty, tvm.ir.PrimType) and str(value.name) in dims)
                # a shape whose dims are vars bound by a match_cast: partitioning resolves them
                and not (
                    isinstance(value.ty, relax.ShapeType)
                    and value.ty.values is not None
                    and any(not isinstance(v, tvm.ir.prim.expr.IntImm) for v in value.ty.values)
                )
            ):
                return (
                    f"{call.op.name} takes a run-time {type(value.ty).__name__} ({value.name}): "
                    "TensorRT inputs are tensors"
                )
    return None


def computed_dtype(dtype, opts) -> str:
    """The dtype TensorRT computes a tensor of ``dtype`` in: float64 is float32 with truncate_double
    (partition.truncate_double narrows the subgraph and casts at its boundary)."""
    dtype = str(dtype)
    return "float32" if dtype == "float64" and getattr(opts, "truncate_double", False) else dtype


def not_float64(ty, call, opts) -> Optional[str]:
    if computed_dtype(ty.dtype, opts) == "float64":  # TensorRT's own ONNX parser narrows DOUBLE to FLOAT
        return (
            f"{call.op.name}: float64 tensors (TensorRT has no 64-bit float type; "
            "truncate_double=True computes them in float32)"
        )
    return None


def dtype_in(dtypes: Iterable[str]) -> TensorCheck:
    """The tensor's dtype is one the op's converter accepts (its registration's ``dtypes``)."""
    dtypes = tuple(dtypes)

    def dtype_accepted(ty, call, opts):
        if computed_dtype(ty.dtype, opts) not in dtypes:
            return f"dtype {ty.dtype} is not supported by the TensorRT converter for {call.op.name}"
        return None

    return dtype_accepted


def known_dims(ty, call, opts) -> Optional[str]:
    """Known rank, dims TensorRT can express, and with use_implicit_batch a static non-batch shape."""
    shape = ir.dims(ty)
    if shape is None and ir.ndim(ty) >= 0 and _value_shaped_output(ty, call):
        return None
    if shape is None:
        return "tensor of unknown rank" if ir.ndim(ty) < 0 else "tensor of unknown shape"
    for axis, d in enumerate(shape):
        reason = dim_expr.try_parse(d)
        if reason:
            return reason
        if isinstance(d, str) and axis and opts.use_implicit_batch:  # implicit-batch TensorRT (< 7)
            return f"dynamic dim at axis {axis}: only the batch axis may be dynamic with use_implicit_batch=True"
    return None


def each_tensor(*checks: TensorCheck):
    """Every tensor of the call (arguments, then results) through ``checks`` in turn: the first
    reason wins, so the first offending tensor is the one named."""

    def every_tensor(call, opts):
        for ty in tensor_types(call):
            for check in checks:
                reason = check(ty, call, opts)
                if reason:
                    return reason
        return None

    every_tensor.__qualname__ = f"each_tensor({', '.join(c.__qualname__ for c in checks)})"
    return every_tensor
