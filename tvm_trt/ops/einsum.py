"""einsum -> IEinsumLayer. TensorRT takes one or two operands of explicit subscripts; it refuses
ellipses, subscripts repeated within one operand (diagonals) and broadcast of a size-1 dim."""

from __future__ import annotations

from ..core import ir
from ..core.registry import FLOAT_TYPES, register_op


def _einsum_check(call, opts):
    equation = str(call.attrs.subscripts).replace(" ", "")
    operands = list(call.args[0].fields) if hasattr(call.args[0], "fields") else []
    if not 1 <= len(operands) <= 2:
        return f"einsum of {len(operands)} operands (TensorRT takes 1 or 2)"
    if "..." in equation:
        return f"einsum '{equation}' uses an ellipsis (TensorRT needs explicit subscripts)"
    inputs = equation.split("->")[0].split(",")
    if any(len(set(s)) != len(s) for s in inputs):
        return f"einsum '{equation}' repeats a subscript within an operand (a diagonal)"
    dims = {}
    for subs, x in zip(inputs, operands):
        for letter, dim in zip(subs, ir.dims(x.ty)):
            if dims.setdefault(letter, dim) != dim:
                return f"einsum '{equation}' broadcasts subscript '{letter}' ({dims[letter]} vs {dim})"
    if opts.use_implicit_batch:
        return "einsum with use_implicit_batch=True"
    return None


@register_op("relax.einsum", check=_einsum_check, dtypes=FLOAT_TYPES + ("bfloat16",))
def einsum(ctx, node):
    tensors = [ctx.tensor(t) for t in node.args[0]]
    equation = str(node.attrs["subscripts"]).replace(" ", "")
    return ctx.network.add_einsum(tensors, equation).get_output(0)
