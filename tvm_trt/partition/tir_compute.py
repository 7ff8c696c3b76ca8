"""Relax ops recovered from elementwise, tiling and einsum TIR kernels (see tir_kernels).

TVM 0.27's ONNX importer emits ``Clip`` as ``topi.maximum`` / ``topi.minimum`` kernels, ``Tile`` as
``topi.tile`` / ``topi.dyn_tile``, ``Einsum`` as ``topi.einsum`` and ``Pad`` of mode ``reflect`` /
``edge`` as ``topi.nn.mirror_pad`` / ``topi.nn.replicate_pad``. Each kernel is read by its body, not
its name: one store whose value is

* ``max(a[..], b[..])`` / ``min(..)`` with broadcast indices -> ``relax.maximum`` / ``minimum``;
* ``x[i0 % n0, i1 % n1, ..]`` (``0`` for a size-1 dim) over a static output -> ``relax.tile``;
* a product of loads indexed by plain axes, summed over the reduction axes -> ``relax.einsum``
  (its equation spelled from the axes);
* ``x[..]`` at mirrored or clamped indices, body for body the kernel topi builds for some split of
  each axis's padding into before / after -> ``relax.nn.pad`` (``reflect`` / ``replicate``).
"""

from __future__ import annotations

import itertools
import string
from typing import Callable, List, Optional

import numpy as np
import tvm
import tvm_ffi
from tvm import relax, tirx

Lift = Callable[[List[relax.Expr]], relax.Expr]


def _static(shape) -> Optional[List[int]]:
    return [int(d) for d in shape] if all(isinstance(d, tirx.IntImm) for d in shape) else None


def _is_load(expr, buffer=None) -> bool:
    return isinstance(expr, tvm.ir.expr.TensorLoad) and (buffer is None or expr.source.same_as(buffer))


def _broadcast_load(load, buffer, axes) -> bool:
    """``buffer[..]`` read at the trailing output axes, or at 0 along its size-1 dims."""
    if not _is_load(load, buffer) or len(load.indices) > len(axes):
        return False
    tail = list(axes)[len(axes) - len(load.indices) :]
    for index, axis, dim in zip(load.indices, tail, buffer.shape):
        if not (index.same_as(axis) or (isinstance(index, tirx.IntImm) and int(index) == 0 and int(dim) == 1)):
            return False
    return True


def min_max(func, store) -> Optional[Lift]:
    value = store.value
    if not isinstance(value, (tirx.Max, tirx.Min)) or len(func.params) != 3:
        return None
    a, b, out = func.params
    axes = store.indices
    if not all(isinstance(x, tirx.Var) for x in axes) or len(axes) != len(out.shape):
        return None
    if not (_broadcast_load(value.a, a, axes) and _broadcast_load(value.b, b, axes)):
        return None
    op = relax.op.maximum if isinstance(value, tirx.Max) else relax.op.minimum
    return lambda args: op(args[0], args[1])


def tile(func, store) -> Optional[Lift]:
    if len(func.params) != 2 or not _is_load(store.value, func.params[0]):
        return None
    data, out = func.params
    in_shape, out_shape = _static(data.shape), _static(out.shape)
    indices = store.value.indices
    if in_shape is None or out_shape is None or len(out_shape) < len(in_shape) or not in_shape:
        return None
    axes = list(store.indices)[len(out_shape) - len(in_shape) :]
    for index, axis, n in zip(indices, axes, in_shape):
        mod = isinstance(index, tirx.FloorMod) and index.a.same_as(axis) and isinstance(index.b, tirx.IntImm)
        # topi.tile reads a size-1 dim as x[.., 0, ..]: TVM simplifies `i % 1` away.
        zero = n == 1 and isinstance(index, tirx.IntImm) and int(index) == 0
        if not (zero or (mod and int(index.b) == n)):
            return None
    reps = out_shape[: len(out_shape) - len(in_shape)] + [o // n for o, n in zip(out_shape[-len(in_shape) :], in_shape)]
    if any(o % n for o, n in zip(out_shape[-len(in_shape) :], in_shape)):
        return None
    return lambda args: relax.op.tile(args[0], reps)


def _factors(expr) -> List:
    if isinstance(expr, tirx.Mul):
        return _factors(expr.a) + _factors(expr.b)
    return [expr]


def _zero_init(stmt) -> bool:
    """The kernel's (innermost) block starts its accumulator at zero."""
    init = None
    while stmt is not None and not isinstance(stmt, tirx.Expr):
        init = getattr(stmt, "init", None) or init
        if isinstance(stmt, tirx.SeqStmt):
            stmt = stmt.seq[0] if len(stmt.seq) == 1 else None
        else:
            stmt = getattr(stmt, "block", None) or getattr(stmt, "body", None)
    value = getattr(init, "value", None)
    return isinstance(value, (tirx.FloatImm, tirx.IntImm)) and float(value.value) == 0.0


def einsum(func, store) -> Optional[Lift]:
    *inputs, out = func.params
    if not 1 <= len(inputs) <= 2 or not store.buffer.same_as(out):
        return None
    value = store.value
    out_axes = list(store.indices)
    reduces = isinstance(value, tirx.Add) and _is_load(value.a, out)
    if reduces:
        if not all(i.same_as(a) for i, a in zip(value.a.indices, out_axes)):
            return None
        value = value.b
    loads = _factors(value)
    if len(loads) != len(inputs) or not all(_is_load(ld, b) for ld, b in zip(loads, inputs)):
        return None
    if not all(isinstance(i, tirx.Var) for ld in loads for i in ld.indices):
        return None
    if not all(isinstance(a, tirx.Var) for a in out_axes) or len({a.name for a in out_axes}) != len(out_axes):
        return None
    if reduces and not _zero_init(func.body):
        return None
    letters = {}  # by name: block iter vars are named uniquely; PrimExpr == builds an expression

    def spell(axes):
        return "".join(letters.setdefault(a.name, string.ascii_lowercase[len(letters)]) for a in axes)

    output = spell(out_axes)
    operands = [spell(ld.indices) for ld in loads]
    equation = ",".join(operands) + "->" + output
    if not reduces and set("".join(operands)) != set(output):
        return None  # a sum without an accumulation is no einsum
    return lambda args: relax.op.einsum(relax.Tuple(args), equation)


_BORDER_PADS = (("reflect", "mirror_pad"), ("replicate", "replicate_pad"))
_MAX_PAD_SPLITS = 256  # before / after splits tried per kernel (pads are a few elements per side)


def border_pad(func, store) -> Optional[Lift]:
    """A reflect / replicate pad: the widths are not in the kernel as such (TVM folds them into the
    index arithmetic), so each split of the padding is rebuilt with topi and compared body for body."""
    if len(func.params) != 2 or not _is_load(store.value, func.params[0]):
        return None
    data, out = func.params
    in_shape, out_shape = _static(data.shape), _static(out.shape)
    if in_shape is None or out_shape is None or len(in_shape) != len(out_shape) or not in_shape:
        return None
    totals = [o - i for i, o in zip(in_shape, out_shape)]
    if min(totals) < 0 or not any(totals) or int(np.prod([t + 1 for t in totals])) > _MAX_PAD_SPLITS:
        return None
    from tvm import te, topi

    x = te.placeholder(data.shape, data.dtype, name="x")
    for before in itertools.product(*[range(t + 1) for t in totals]):
        after = [t - b for t, b in zip(totals, before)]
        for mode, kernel in _BORDER_PADS:
            extra = ("REFLECT",) if mode == "reflect" else ()
            if mode == "reflect" and any(b >= n or a >= n for b, a, n in zip(before, after, in_shape)):
                continue  # topi would read outside the input; not a pad this kernel can be
            built = te.create_prim_func([x, getattr(topi.nn, kernel)(x, list(before), after, *extra)], "int64")
            if tvm_ffi.structural_equal(func.body, built.body, True):
                widths = [w for pair in zip(before, after) for w in pair]
                return lambda args, widths=widths, mode=mode: relax.op.nn.pad(args[0], widths, mode)
    return None


RECOGNIZERS = (min_max, tile, einsum, border_pad)
