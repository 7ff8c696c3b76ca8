"""Which calls TensorRT can take: the generic checks before each op's registered predicate, and the
fusion patterns derived from the registry."""
from __future__ import annotations

import logging
from typing import Optional

import tvm
from tvm import relax
from tvm.relax.dpl import is_op, wildcard

from ..core import ir, registry, dim_expr
from ..core.registry import PartitionOptions, version_str
from .options import CODEGEN, EXCLUDED_REASON

log = logging.getLogger("tvm_trt.partition")


def check_call(call: relax.Call, opts: PartitionOptions) -> Optional[str]:
    """Why ``call`` must stay in TVM, or None when TensorRT can take it."""
    name = call.op.name
    if name in opts.exclude_ops:
        return EXCLUDED_REASON
    entry = registry.get(name)
    if entry is None:
        return registry.no_converter_reason(name) or f"no TensorRT converter registered for {name}"
    if any(ir.dims(ty) is None and ir.ndim(ty) >= 0 for ty in ir.tensor_types(call)):
        return (f"{name}: output shape depends on the data (TensorRT needs output shapes computable "
                "from input shapes)")
    if tuple(opts.version) < entry.min_version:
        return f"{name} needs TensorRT >= {version_str(entry.min_version)} (target {version_str(opts.version)})"
    dims = {v for t in [t for a in call.args for t in ir.tensor_types(a)] + ir.tensor_types(call)
            for d in ir.dims(t) or [] if dim_expr.try_parse(d) is None for v in dim_expr.vars_of(d)}
    for arg in call.args:
        for value in arg.fields if isinstance(arg, relax.Tuple) else [arg]:
            if isinstance(value, relax.Var) and not ir.is_tensor(value) and not (
                isinstance(value.ty, tvm.ir.PrimType) and str(value.name) in dims  # a symbolic dim (slice bound)
            ):
                return f"{name} takes a run-time {type(value.ty).__name__} ({value.name}): TensorRT inputs are tensors"
    for ty in [t for a in call.args for t in ir.tensor_types(a)] + ir.tensor_types(call):
        if ty.dtype == "float64":  # TensorRT's own ONNX parser narrows DOUBLE to FLOAT instead
            return f"{name}: float64 tensors (TensorRT has no 64-bit float type)"
        if ty.dtype not in entry.dtypes:
            return f"dtype {ty.dtype} is not supported by the TensorRT converter for {name}"
        shape = ir.dims(ty)
        if shape is None:
            return "tensor of unknown rank" if ir.ndim(ty) < 0 else "tensor of unknown shape"
        for axis, d in enumerate(shape):
            reason = dim_expr.try_parse(d)
            if reason:
                return reason
            if isinstance(d, str) and axis and opts.use_implicit_batch:  # implicit-batch TensorRT (< 7)
                return f"dynamic dim at axis {axis}: only the batch axis may be dynamic with use_implicit_batch=True"
    if entry.check is None:
        return None
    try:
        return entry.check(call, opts)
    except Exception as err:  # a predicate bug must not stop partitioning: the op stays in TVM
        log.warning("the predicate of %s raised %s: %s", name, type(err).__name__, err)
        return f"the predicate of {name} raised {type(err).__name__}: {err}"


def op_patterns(opts: PartitionOptions):
    def check(ctx):
        return check_call(ctx.annotated_expr["root"], opts) is None

    pats = []
    for name, entry in registry.entries().items():
        for n in entry.arities or (tvm.ir.Op.get(name).num_inputs,):
            root = is_op(name)(*[wildcard() for _ in range(n)])
            pats.append((f"{CODEGEN}.{name[len('relax.'):]}", root, {"root": root}, check))
    return pats
