"""Binary elementwise ops, comparisons, logic, where and astype, with NumPy broadcasting
(ranks equalised by prepending 1s)."""

from __future__ import annotations

from ..core import ir
from ..core.registry import FLOAT_TYPES, INT_TYPES, all_of, no_converter, register_op
from ._common import int8_values_check
from .narrow_cast import FP8, cast_fp8, is_fp8

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


# Integer divide truncates toward zero in TVM (relax.divide, as ONNX's Div) and in TensorRT's DIV
# (the same exact integer quotient relax.mod relies on below); floor_divide floors in both.
# int8 as plain values (torch's clamp of int8, ONNX Clip on int8): only ops that cannot overflow.
for _relax, _trt, _dtypes in [
    ("add", "SUM", NUMERIC),
    ("subtract", "SUB", NUMERIC),
    ("multiply", "PROD", NUMERIC),
    ("divide", "DIV", NUMERIC),
    ("maximum", "MAX", NUMERIC + ("int8",)),
    ("minimum", "MIN", NUMERIC + ("int8",)),
]:
    register_op(f"relax.{_relax}", check=all_of(_batch_rule, int8_values_check), dtypes=_dtypes)(_binary(_trt))


def _float_power(call, opts):
    if str(call.ty.dtype) in INT_TYPES:
        return (
            "integer power: TVM cannot compile it (so no TVM fallback could run the subgraph) and TensorRT "
            "documents no integer POW semantics (rounding, negative exponents)"
        )
    return _batch_rule(call, opts)


register_op("relax.power", check=_float_power, dtypes=NUMERIC)(_binary("POW"))

# floor(a / b) for floats as Relax's floor_divide computes it; integers floored exactly.
register_op("relax.floor_divide", check=_batch_rule, min_version=(8, 0, 0), dtypes=NUMERIC)(_binary("FLOOR_DIV"))


# TensorRT's AND/OR/XOR/NOT take bools only; it has no integer bit operations or shifts.
for _relax in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "left_shift", "right_shift"):
    no_converter(f"relax.{_relax}", f"{_relax}: TensorRT has no integer bit operations (its logic ops take bools)")


# ---- modulo: TensorRT has no MOD; a - b * q, q the quotient rounded down (floor_mod) or toward
# zero (mod, C's fmod). Integers are exact (FLOOR_DIV / DIV); floats compute q = a / b as TVM's
# floor_mod does (within an ulp of q for fmod, which TVM computes exactly).


def _modulo(floored: bool):
    def convert(ctx, node):
        a, b = ctx.broadcast_pair(*node.args)
        if node.out_dtype in INT_TYPES:
            q = ctx.elementwise(a, b, "FLOOR_DIV" if floored else "DIV")
        else:
            q = ctx.elementwise(a, b, "DIV")
            if floored:
                q = ctx.unary(q, "FLOOR")
            else:  # trunc(q) = sign(q) * floor(|q|)
                q = ctx.elementwise(ctx.unary(q, "SIGN"), ctx.unary(ctx.unary(q, "ABS"), "FLOOR"), "PROD")
        return ctx.elementwise(a, ctx.elementwise(b, q, "PROD"), "SUB")

    return convert


register_op("relax.floor_mod", check=_batch_rule, min_version=(8, 0, 0), dtypes=NUMERIC)(_modulo(True))
register_op("relax.mod", check=_batch_rule, min_version=(8, 2, 0), dtypes=NUMERIC)(_modulo(False))  # SIGN: 8.2


# ---- comparisons and logic (bool results; TensorRT 7 added them) ---------------------------

_COMPARED = NUMERIC + ("bool", "int8")


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


_check_compare = all_of(_numeric_inputs, _batch_rule, int8_values_check)
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
    return _batch_rule(call, opts) or int8_values_check(call, opts)


@register_op("relax.where", check=_where_check, min_version=(8, 0, 0), dtypes=("bool", "int8") + NUMERIC)
def where(ctx, node):
    cond, a, b = (ctx.tensor(v) for v in node.args)  # constants keep their Relax dtype
    rank = max(len(t.shape) for t in (cond, a, b))
    cond, a, b = (ctx.expand_rank(t, rank) for t in (cond, a, b))
    return ctx.network.add_select(cond, a, b).get_output(0)


# ---- astype --------------------------------------------------------------------------------

# bfloat16 crosses the engine boundary as BF16 bindings; TensorRT casts to/from it round to nearest even.
_CASTABLE = NUMERIC + ("bool", "int8", "bfloat16", "float8_e4m3fn")


@register_op("relax.astype", check=int8_values_check, min_version=(8, 6, 0), dtypes=_CASTABLE)
def astype(ctx, node):
    x = node.args[0]
    if FP8 == node.out_dtype or is_fp8(ctx, x):
        return cast_fp8(ctx, ctx.tensor(x), node.out_dtype)
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


@register_op("relax.isfinite", min_version=(7, 0, 0), dtypes=FLOAT_TYPES + ("bool",))
def isfinite(ctx, node):
    return ctx.elementwise(ctx.unary(node.args[0], "ABS"), float("inf"), "LESS")  # NaN < inf is false
