"""einsum -> IEinsumLayer. TensorRT takes one or two operands of explicit subscripts; it refuses
ellipses and broadcast of a size-1 dim. A subscript repeated within one operand takes a diagonal
(``ii->i``, a trace ``ii->``, ``bii->bi``, ``ii,i->i``): TensorRT 8's einsum refused those, the
TensorRT 10 era layer builds them (TensorRT-RTX 1.7 plans, fp32/fp16/bf16, static and dynamic dims)."""

from __future__ import annotations

from ..core import ir
from ..core.registry import FLOAT_TYPES, register_op

DIAGONAL_VERSION = (10, 0, 0)


def _einsum_check(call, opts):
    equation = str(call.attrs.subscripts).replace(" ", "")
    operands = list(call.args[0].fields) if hasattr(call.args[0], "fields") else []
    if not 1 <= len(operands) <= 2:
        return f"einsum of {len(operands)} operands (TensorRT takes 1 or 2)"
    if "..." in equation:
        return f"einsum '{equation}' uses an ellipsis (TensorRT needs explicit subscripts)"
    inputs = equation.split("->")[0].split(",")
    if any(len(set(s)) != len(s) for s in inputs) and tuple(opts.version) < DIAGONAL_VERSION:
        return (
            f"einsum '{equation}' repeats a subscript within an operand (a diagonal): "
            f"TensorRT < {'.'.join(map(str, DIAGONAL_VERSION))} refuses it"
        )
    dims = {}
    for subs, x in zip(inputs, operands):
        for letter, dim in zip(subs, ir.dims(x.ty) or ()):
            # TensorRT refuses a subscript whose dims differ, within an operand (a non-square
            # diagonal) or across operands (a broadcast).
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
