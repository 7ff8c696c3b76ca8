"""einsum -> IEinsumLayer, of one or two operands whose subscripts' dims are equal.
An ellipsis is spelled out as fresh subscripts (``...ij->...ji`` -> ``abij->abji``), so TensorRT
sees explicit subscripts only. A subscript repeated within one operand takes a diagonal (``ii->i``,
a trace ``ii->``, ``bii->bi``, ``ii,i->i``): TensorRT 8's einsum refused those, the TensorRT 10 era
layer builds them (TensorRT-RTX 1.7 plans, fp32/fp16/bf16, static and dynamic dims)."""

from __future__ import annotations

import string
from typing import Optional, Sequence

from ..core import ir
from ..core.registry import FLOAT_TYPES, register_op

DIAGONAL_VERSION = (10, 0, 0)


def explicit_equation(equation: str, ranks: Sequence[int]) -> Optional[str]:
    """``equation`` with each ellipsis replaced by fresh lower-case subscripts (right-aligned across
    operands, as numpy broadcasts them) and an implicit output written out; None when an operand's
    rank is unknown or too few letters are free."""
    equation = equation.replace(" ", "")
    if "..." not in equation:
        return equation
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ranks) or any(r < 0 for r in ranks):
        return None
    widths = [r - (len(t) - 3) if "..." in t else 0 for t, r in zip(terms, ranks)]
    free = [c for c in string.ascii_lowercase if c not in equation]
    width = max(widths)
    if width > len(free) or min(widths) < 0:
        return None
    letters = "".join(free[:width])
    terms = [t.replace("...", letters[width - w :]) for t, w in zip(terms, widths)]
    if not arrow:  # numpy's implicit output: broadcast dims, then the subscripts seen once, sorted
        labels = lhs.replace("...", "").replace(",", "")
        rhs = "..." + "".join(sorted(c for c in set(labels) if labels.count(c) == 1))
    return ",".join(terms) + "->" + rhs.replace("...", letters)


def _einsum_check(call, opts):
    operands = list(call.args[0].fields) if hasattr(call.args[0], "fields") else []
    if not 1 <= len(operands) <= 2:
        return f"einsum of {len(operands)} operands (TensorRT takes 1 or 2)"
    given = str(call.attrs.subscripts).replace(" ", "")
    equation = explicit_equation(given, [ir.ndim(x.ty) for x in operands])
    if equation is None:
        return f"einsum '{given}': its ellipsis cannot be spelled out (unknown rank or too few free letters)"
    inputs = equation.split("->")[0].split(",")
    if any(len(set(s)) != len(s) for s in inputs) and tuple(opts.version) < DIAGONAL_VERSION:
        return (
            f"einsum '{given}' repeats a subscript within an operand (a diagonal): "
            f"TensorRT < {'.'.join(map(str, DIAGONAL_VERSION))} refuses it"
        )
    dims = {}
    for subs, x in zip(inputs, operands):
        for letter, dim in zip(subs, ir.dims(x.ty) or ()):
            # Unequal dims of one subscript: TensorRT-RTX refuses them within an operand (a diagonal
            # of a size-1 and a size-n dim); across operands (a size-1 broadcast) it builds them, but
            # that form is not verified here, so it stays in TVM too.
            if dims.setdefault(letter, dim) != dim:
                return f"einsum '{given}' broadcasts subscript '{letter}' ({dims[letter]} vs {dim})"
    if opts.use_implicit_batch:
        return "einsum with use_implicit_batch=True"
    return None


@register_op("relax.einsum", check=_einsum_check, dtypes=FLOAT_TYPES + ("bfloat16",))
def einsum(ctx, node):
    tensors = [ctx.tensor(t) for t in node.args[0]]
    equation = explicit_equation(str(node.attrs["subscripts"]), [len(t.shape) for t in tensors])
    return ctx.network.add_einsum(tensors, equation).get_output(0)
