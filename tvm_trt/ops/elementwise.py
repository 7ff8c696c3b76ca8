"""Binary elementwise ops, comparisons, logic, where and astype, with NumPy broadcasting
(ranks equalised by prepending 1s)."""
from __future__ import annotations

from ..core import ir
from ..core.registry import FLOAT_TYPES, INT_TYPES, all_of, register_op
from ._common import int8_values_check

NUMERIC = FLOAT_TYPES + INT_TYPES  # int64: position ids, mask arithmetic (gated to TensorRT >= 10)


def _batch_rule(call, opts):
    """With implicit batch, a binary op may not broadcast a per-sample tensor across the batch."""
    if not opts.use_implicit_batch:
        return None
    out = ir.dims(call.ty)
    for arg in call.args:
        if ir.is_tensor(arg) and not ir.is_constant(arg):
            shape = ir.dims(arg.ty)
            if len(shape) == len(out) and out and shape[0] != out[0]:
                return "broadcasts a non-constant operand across the batch axis with use_implicit_batch=True"
    return None


def _binary(op_name: str):
    def convert(ctx, node):
        return ctx.elementwise(node.args[0], node.args[1], op_name)

    return convert


# Integer divide and power stay float-only: TVM's integer division rounds differently per op.
for _relax, _trt, _dtypes in [
    ("add", "SUM", NUMERIC),
    ("subtract", "SUB", NUMERIC),
    ("multiply", "PROD", NUMERIC),
    ("divide", "DIV", FLOAT_TYPES),
    ("power", "POW", FLOAT_TYPES),
    ("maximum", "MAX", NUMERIC),
    ("minimum", "MIN", NUMERIC),
]:
    register_op(f"relax.{_relax}", check=_batch_rule, dtypes=_dtypes)(_binary(_trt))

# floor(a / b) for floats, as Relax's floor_divide computes it.
register_op("relax.floor_divide", check=_batch_rule, min_version=(8, 0, 0))(_binary("FLOOR_DIV"))


# ---- comparisons and logic (bool results; TensorRT 7 added them) ---------------------------

_COMPARED = NUMERIC + ("bool",)


def _numeric_inputs(call, opts):
    if any(ir.is_tensor(a) and str(a.ty.dtype) == "bool" for a in call.args):
        return "TensorRT compares numeric tensors only (bool operands)"
    return None


def _compare(*ops: str, negate: bool = False):
    """OR of the ``ops`` results (e.g. GREATER | EQUAL), optionally negated: exact for NaN too."""

    def convert(ctx, node):
        a, b = node.args
        out = ctx.elementwise(a, b, ops[0])
        for op in ops[1:]:
            out = ctx.elementwise(out, ctx.elementwise(a, b, op), "OR")
        return ctx.unary(out, "NOT") if negate else out

    return convert


_check_compare = all_of(_numeric_inputs, _batch_rule)
for _relax, _ops, _negate in [
    ("equal", ("EQUAL",), False),
    ("not_equal", ("EQUAL",), True),
    ("greater", ("GREATER",), False),
    ("less", ("LESS",), False),
    ("greater_equal", ("GREATER", "EQUAL"), False),
    ("less_equal", ("LESS", "EQUAL"), False),
]:
    register_op(f"relax.{_relax}", check=_check_compare, min_version=(7, 0, 0), dtypes=_COMPARED)(
        _compare(*_ops, negate=_negate)
    )

for _relax, _trt in [("logical_and", "AND"), ("logical_or", "OR"), ("logical_xor", "XOR")]:
    register_op(f"relax.{_relax}", check=_batch_rule, min_version=(7, 0, 0), dtypes=("bool",))(_binary(_trt))


@register_op("relax.logical_not", min_version=(7, 0, 0), dtypes=("bool",))
def logical_not(ctx, node):
    return ctx.unary(node.args[0], "NOT")


# ---- where ---------------------------------------------------------------------------------


def _where_check(call, opts):
    if str(call.ty.dtype) == "bool":
        return "where selecting bool values"
    return _batch_rule(call, opts)


@register_op("relax.where", check=_where_check, min_version=(8, 0, 0), dtypes=("bool",) + NUMERIC)
def where(ctx, node):
    cond, a, b = (ctx.tensor(v) for v in node.args)  # constants keep their Relax dtype
    rank = max(len(t.shape) for t in (cond, a, b))
    cond, a, b = (ctx.expand_rank(t, rank) for t in (cond, a, b))
    return ctx.network.add_select(cond, a, b).get_output(0)


# ---- astype --------------------------------------------------------------------------------

_CASTABLE = NUMERIC + ("bool", "int8")


@register_op("relax.astype", check=int8_values_check, min_version=(8, 6, 0), dtypes=_CASTABLE)
def astype(ctx, node):
    x = node.args[0]
    out = ctx.cast(x, node.out_dtype)
    return ctx.network.add_identity(x).get_output(0) if out is x else out


# ---- isnan / isinf: TensorRT 10's unary ops where the API has them, else composed exactly ----


@register_op("relax.isnan", min_version=(7, 0, 0), dtypes=FLOAT_TYPES + ("bool",))
def isnan(ctx, node):
    x = node.args[0]
    if hasattr(ctx.trt.UnaryOperation, "ISNAN"):
        return ctx.unary(x, "ISNAN")
    return ctx.unary(ctx.elementwise(x, x, "EQUAL"), "NOT")  # NaN is the one value != itself


@register_op("relax.isinf", min_version=(7, 0, 0), dtypes=FLOAT_TYPES + ("bool",))
def isinf(ctx, node):
    x = node.args[0]
    if hasattr(ctx.trt.UnaryOperation, "ISINF"):
        return ctx.unary(x, "ISINF")
    return ctx.elementwise(ctx.unary(x, "ABS"), float("inf"), "EQUAL")
