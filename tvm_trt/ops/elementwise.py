"""Binary elementwise ops, comparisons, logic, where and astype, with NumPy broadcasting
(ranks equalised by prepending 1s)."""

from __future__ import annotations

import numpy as np

from ..core import ir
from ..core.dtypes import held_dtype
from ..core.registry import FLOAT_TYPES, INT_TYPES, all_of, no_converter, register_op
from ._common import int8_values_check
from .narrow_cast import FP8, cast_fp8, is_fp8

NUMERIC = FLOAT_TYPES + INT_TYPES  # int64: position ids, mask arithmetic (gated to TensorRT >= 10)
BYTES = ("int8", "uint8")


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


# ---- 8-bit integers as plain values (ONNX's int8/uint8 arithmetic, torch's clamp of int8) ----
# Each computes in a wide type holding every result of two bytes exactly (|a * b| <= 2^16):
# int8 in INT32, uint8 in FLOAT (the network holds uint8 values as FLOAT: core.dtypes.held_dtype).
# A result that can leave the byte's range wraps around as NumPy's and ONNX's do, computed
# before the narrowing cast, so every value cast is in range (TensorRT documents no
# out-of-range integer cast).
_WIDE = {"int8": "int32", "uint8": "float32"}
_MAY_OVERFLOW = ("SUM", "SUB", "PROD", "DIV", "FLOOR_DIV")


def _widen(ctx, value, wide: str):
    if isinstance(value, ctx.trt.ITensor):
        return ctx.cast(value, wide)
    return np.asarray(value).astype(wide)  # a constant operand: exact in the wide type


def _wrap(ctx, x, dtype: str):
    """Integers held in the wide type -> ``dtype``, two's complement wrap-around on overflow."""
    if dtype == "int8":  # x - 256 * floor((x + 128) / 256), exact in INT32
        turns = ctx.elementwise(ctx.elementwise(x, 128, "SUM"), 256, "FLOOR_DIV")
    else:  # FLOAT holding integers: x / 256 is exact (a power of two)
        turns = ctx.unary(ctx.elementwise(x, 1.0 / 256, "PROD"), "FLOOR")
    return ctx.cast(ctx.elementwise(x, ctx.elementwise(turns, 256, "PROD"), "SUB"), held_dtype(dtype))


def _wide_op(ctx, a, b, op_name: str, wide: str):
    """``a <op> b`` in the wide type. uint8's quotient in FLOAT is exact once floored: the
    operands are non-negative and a non-integer quotient of bytes is >= 1/255 from the next integer."""
    if wide == "float32" and op_name in ("DIV", "FLOOR_DIV"):
        return ctx.unary(ctx.elementwise(a, b, "DIV"), "FLOOR")
    return ctx.elementwise(a, b, op_name)


def _binary(op_name: str):
    def convert(ctx, node):
        a, b = node.args
        dtype = node.out_dtype
        # int8 MAX / MIN cannot overflow and TensorRT 10 takes them on INT8 directly
        if dtype not in BYTES or (dtype == "int8" and op_name in ("MAX", "MIN")):
            return ctx.elementwise(a, b, op_name)
        wide = _WIDE[dtype]
        out = _wide_op(ctx, _widen(ctx, a, wide), _widen(ctx, b, wide), op_name, wide)
        return _wrap(ctx, out, dtype) if op_name in _MAY_OVERFLOW else ctx.cast(out, held_dtype(dtype))

    return convert


# Integer divide truncates toward zero in TVM (relax.divide, as ONNX's Div) and in TensorRT's DIV
# (the same exact integer quotient relax.mod relies on below); floor_divide floors in both.
for _relax, _trt in [
    ("add", "SUM"),
    ("subtract", "SUB"),
    ("multiply", "PROD"),
    ("divide", "DIV"),
    ("maximum", "MAX"),
    ("minimum", "MIN"),
]:
    register_op(f"relax.{_relax}", check=all_of(_batch_rule, int8_values_check), dtypes=NUMERIC + BYTES)(_binary(_trt))


# ---- power: TensorRT's POW for floats. Integers (no documented POW semantics there) by square
# and multiply over every bit of the exponent in the integer type: exact wherever the result fits
# it (factors not taken are computed but never selected); past it, TensorRT's integer PROD
# overflow decides, which wraps as NumPy's does only where TensorRT's does (undocumented).
# A negative exponent gives trunc(base ** e) as ONNX Runtime computes it: 1 for base 1, +-1 for
# base -1, else 0 (0 ** negative is undefined: 0 here).


def _const_int_power(ctx, base, exponent: int):
    """base ** exponent for a constant exponent >= 1: the squares its bits take, multiplied."""
    result, square = None, base
    while exponent:
        if exponent & 1:
            result = square if result is None else ctx.elementwise(result, square, "PROD")
        exponent >>= 1
        if exponent:
            square = ctx.elementwise(square, square, "PROD")
    return result


def _int_power(ctx, node):
    a, b = node.args
    if isinstance(b, np.ndarray) and b.size == 1 and b.ndim <= len(a.shape) and b.item() > 0:
        return _const_int_power(ctx, a, int(b.item()))  # a scalar exponent (x ** 2): a few products
    base, e = ctx.broadcast_pair(a, b)
    dtype = node.out_dtype
    one, zero = np.asarray(1, dtype), np.asarray(0, dtype)

    def select(cond, a, b):
        a, b = ctx.broadcast_pair(a, b)
        rank = max(len(cond.shape), len(a.shape))
        cond, a, b = (ctx.expand_rank(t, rank) for t in (cond, a, b))
        return ctx.network.add_select(cond, a, b).get_output(0)

    result, square, rest = None, base, e
    for i in range(np.iinfo(dtype).bits - 1):  # the sign bit is the negative case below
        half = ctx.elementwise(rest, 2, "FLOOR_DIV")
        odd = ctx.elementwise(ctx.elementwise(rest, ctx.elementwise(half, 2, "PROD"), "SUB"), one, "EQUAL")
        if i == 0:
            parity, result = odd, select(odd, base, one)
        else:
            result = select(odd, ctx.elementwise(result, square, "PROD"), result)
        square, rest = ctx.elementwise(square, square, "PROD"), half
    minus_one = ctx.elementwise(base, np.asarray(-1, dtype), "EQUAL")
    negative = select(
        ctx.elementwise(base, one, "EQUAL"), one, select(minus_one, select(parity, np.asarray(-1, dtype), one), zero)
    )
    return select(ctx.elementwise(e, zero, "LESS"), negative, result)


def _power(ctx, node):
    if node.out_dtype in INT_TYPES:
        return _int_power(ctx, node)
    return ctx.elementwise(node.args[0], node.args[1], "POW")


register_op("relax.power", check=_batch_rule, dtypes=NUMERIC)(_power)

# floor(a / b) for floats as Relax's floor_divide computes it; integers floored exactly.
register_op(
    "relax.floor_divide", check=all_of(_batch_rule, int8_values_check), min_version=(8, 0, 0), dtypes=NUMERIC + BYTES
)(_binary("FLOOR_DIV"))


# TensorRT's AND/OR/XOR/NOT take bools only; it has no integer bit operations or shifts.
for _relax in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "left_shift", "right_shift"):
    no_converter(f"relax.{_relax}", f"{_relax}: TensorRT has no integer bit operations (its logic ops take bools)")


# ---- modulo: TensorRT has no MOD; a - b * q, q the quotient rounded down (floor_mod) or toward
# zero (mod, C's fmod). Integers are exact (FLOOR_DIV / DIV); floats compute q = a / b as TVM's
# floor_mod does (within an ulp of q for fmod, which TVM computes exactly).


def _modulo(floored: bool):
    def convert(ctx, node):
        a, b = node.args
        dtype = wide = node.out_dtype
        if dtype in BYTES:  # the remainder is within the byte's range: no wrap needed
            wide = _WIDE[dtype]
            a, b = _widen(ctx, a, wide), _widen(ctx, b, wide)
        a, b = ctx.broadcast_pair(a, b)
        if wide in INT_TYPES:
            q = ctx.elementwise(a, b, "FLOOR_DIV" if floored else "DIV")
        else:
            q = ctx.elementwise(a, b, "DIV")
            if floored:
                q = ctx.unary(q, "FLOOR")
            else:  # trunc(q) = sign(q) * floor(|q|)
                q = ctx.elementwise(ctx.unary(q, "SIGN"), ctx.unary(ctx.unary(q, "ABS"), "FLOOR"), "PROD")
        return ctx.cast(ctx.elementwise(a, ctx.elementwise(b, q, "PROD"), "SUB"), held_dtype(dtype))

    return convert


_check_mod = all_of(_batch_rule, int8_values_check)
register_op("relax.floor_mod", check=_check_mod, min_version=(8, 0, 0), dtypes=NUMERIC + BYTES)(_modulo(True))
register_op("relax.mod", check=_check_mod, min_version=(8, 2, 0), dtypes=NUMERIC + BYTES)(_modulo(False))  # SIGN: 8.2


# ---- comparisons and logic (bool results; TensorRT 7 added them) ---------------------------

_COMPARED = NUMERIC + ("bool",) + BYTES


def _numeric_inputs(call, opts):
    if any(ir.is_tensor(a) and str(a.ty.dtype) == "bool" for a in call.args):
        return "TensorRT compares numeric tensors only (bool operands)"
    return None


def _compare(*ops: str, negate: bool = False):
    """OR of the ``ops`` results (e.g. GREATER | EQUAL), optionally negated: exact for NaN too."""

    def convert(ctx, node):
        a, b = ctx.broadcast_pair(*node.args)
        floats = {ctx.trt.DataType.FLOAT, ctx.trt.DataType.HALF}
        if a.dtype != b.dtype and {a.dtype, b.dtype} <= floats:
            # uint8 values held as FLOAT, some cast to HALF by the FP16 rewrite: both exact in FLOAT
            a, b = ctx.cast(a, "float32"), ctx.cast(b, "float32")
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
