"""Elementwise unary math through IUnaryLayer (plus rsqrt and square, composed exactly)."""

from __future__ import annotations

from ..core.registry import FLOAT_TYPES, INT_TYPES, register_op

# Before TensorRT 10 unary ops took floats only (SIGN also INT32); from 10 on NEG, ABS and SIGN
# take INT32/INT64 too (position ids, shape arithmetic, ONNX Range).
_INT_UNARY = ("negative", "abs", "sign")


def _int_unary_gate(call, opts):
    if str(call.args[0].ty.dtype) in INT_TYPES and tuple(opts.version) < (10, 0, 0):
        return f"integer {call.op.name} needs TensorRT >= 10.0.0"
    return None


def _unary(op: str):
    def convert(ctx, node):
        return ctx.unary(node.args[0], op)

    return convert


# (Relax op, TensorRT UnaryOperation, first TensorRT version that has it)
_TABLE = [
    ("exp", "EXP", (0, 0, 0)),
    ("log", "LOG", (0, 0, 0)),
    ("sqrt", "SQRT", (0, 0, 0)),
    ("abs", "ABS", (0, 0, 0)),
    ("negative", "NEG", (0, 0, 0)),
    # TensorRT 5.1 added trigonometry, ceil and floor
    ("sin", "SIN", (5, 1, 5)),
    ("cos", "COS", (5, 1, 5)),
    ("tan", "TAN", (5, 1, 5)),
    ("sinh", "SINH", (5, 1, 5)),
    ("cosh", "COSH", (5, 1, 5)),
    ("asin", "ASIN", (5, 1, 5)),
    ("acos", "ACOS", (5, 1, 5)),
    ("atan", "ATAN", (5, 1, 5)),
    ("asinh", "ASINH", (5, 1, 5)),
    ("acosh", "ACOSH", (5, 1, 5)),
    ("atanh", "ATANH", (5, 1, 5)),
    ("ceil", "CEIL", (5, 1, 5)),
    ("floor", "FLOOR", (5, 1, 5)),
    ("erf", "ERF", (7, 0, 0)),
    # sign and round (half to even, as Relax's round) came with TensorRT 8.2
    ("sign", "SIGN", (8, 2, 0)),
    ("round", "ROUND", (8, 2, 0)),
]

for _relax, _trt, _version in _TABLE:
    if _relax in _INT_UNARY:
        register_op(f"relax.{_relax}", min_version=_version, check=_int_unary_gate, dtypes=FLOAT_TYPES + INT_TYPES)(
            _unary(_trt)
        )
    else:
        register_op(f"relax.{_relax}", min_version=_version)(_unary(_trt))


@register_op("relax.rsqrt")
def rsqrt(ctx, node):
    return ctx.unary(ctx.unary(node.args[0], "SQRT"), "RECIP")


@register_op("relax.square")
def square(ctx, node):
    x = node.args[0]
    return ctx.elementwise(x, x, "PROD")
