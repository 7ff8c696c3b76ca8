"""Relax ops recovered from the TIR kernels that TVM's importers emit in their place.

TVM 0.27's ONNX importer imports ``Pad`` (constant mode) as ``call_tir`` of a kernel built by
``topi.nn.pad`` instead of ``relax.nn.pad``. A ``call_tir`` has no TensorRT converter, so every
padded model (EfficientViT's linear attention, shifted windows at small sizes, explicit
``F.pad``) was cut in two around each pad. Before partitioning, such calls become ``relax.nn.pad``
again when the kernel is exactly a constant pad: one store of ``if_then_else(cond, x[i - before],
value)`` over the output, with constant offsets. The other kernels are read by ``tir_compute``
(clip, tile, einsum, and the reflect / edge pads of ``Pad``); kernels of any other shape are left
as they are.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import tvm
from tvm import relax, tirx

from . import tir_compute

_CALL_TIR = tvm.ir.Op.get("relax.call_tir")


def _stores(stmt) -> List[tirx.BufferStore]:
    """The buffer stores of a kernel body (loops, blocks and sequences walked; nothing else)."""
    if isinstance(stmt, tirx.BufferStore):
        return [stmt]
    if isinstance(stmt, tirx.SeqStmt):
        return [s for child in stmt.seq for s in _stores(child)]
    for attr in ("block", "body"):  # SBlockRealize.block, SBlock.body, For.body, ...
        child = getattr(stmt, attr, None)
        if child is not None and not isinstance(child, tirx.Expr):
            return _stores(child)
    return []


def _offset(axis, index) -> Optional[int]:
    """``c`` where ``index`` is ``axis - c`` (or ``axis``), else None."""
    if index.same_as(axis):
        return 0
    if isinstance(index, tirx.Sub) and index.a.same_as(axis) and isinstance(index.b, tirx.IntImm):
        return int(index.b.value)
    if isinstance(index, tirx.Add) and index.a.same_as(axis) and isinstance(index.b, tirx.IntImm):
        return -int(index.b.value)
    return None


def constant_pad(func: tirx.PrimFunc) -> Optional[Tuple[List[int], float]]:
    """``(pad_width as [before0, after0, before1, ...], value)`` if ``func`` is a constant pad."""
    if len(func.params) != 2:
        return None
    data, out = func.params  # buffers (TVM 0.27: buffer-typed vars)
    stores = _stores(func.body)
    if len(stores) != 1 or not stores[0].buffer.same_as(out):
        return None
    value = stores[0].value
    if not (isinstance(value, tvm.ir.Call) and value.op.same_as(tvm.ir.Op.get("prim.if_then_else"))):
        return None
    _, load, fill = value.args
    if not (
        isinstance(load, tvm.ir.expr.TensorLoad)
        and load.source.same_as(data)
        and isinstance(fill, (tirx.FloatImm, tirx.IntImm))
    ):
        return None
    axes = stores[0].indices
    if len(axes) != len(load.indices) or not all(isinstance(a, tirx.Var) for a in axes):
        return None
    widths: List[int] = []
    for axis, index, n_in, n_out in zip(axes, load.indices, data.shape, out.shape):
        before = _offset(axis, index)  # x[i - before]
        if before is None or not isinstance(n_in, tirx.IntImm) or not isinstance(n_out, tirx.IntImm):
            return None
        after = int(n_out) - int(n_in) - before
        if before < 0 or after < 0:
            return None
        widths += [before, after]
    return widths, float(fill.value)


def _recognize(func) -> Optional[tir_compute.Lift]:
    """The Relax op of a one-store kernel that a recognizer of tir_compute reads, else None."""
    if not isinstance(func, tirx.PrimFunc):
        return None
    stores = _stores(func.body)
    if len(stores) != 1 or not stores[0].buffer.same_as(func.params[-1]):
        return None
    for recognize in tir_compute.RECOGNIZERS:
        lift = recognize(func, stores[0])
        if lift is not None:
            return lift
    return None


@relax.expr_functor.mutator
class _PadLifter(relax.PyExprMutator):
    def __init__(self, mod: tvm.IRModule):
        super().__init__(mod)
        self.mod = mod
        self.lifted = 0

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if not (call.op.same_as(_CALL_TIR) and len(call.args) == 2 and isinstance(call.args[0], relax.GlobalVar)):
            return call
        func = self.mod[call.args[0]]
        args = call.args[1]
        pad = (
            constant_pad(func)
            if isinstance(func, tirx.PrimFunc) and isinstance(args, relax.Tuple) and len(args.fields) == 1
            else None
        )
        if pad is not None:
            self.lifted += 1
            return relax.op.nn.pad(args.fields[0], pad[0], "constant", pad[1])
        lift = _recognize(func) if isinstance(args, relax.Tuple) else None
        if lift is None:
            return call
        self.lifted += 1
        return lift(list(args.fields))


def lift_pads(mod: tvm.IRModule) -> tvm.IRModule:
    """``mod`` with each constant-pad ``call_tir`` of its Relax functions replaced by ``relax.nn.pad``."""
    lifter = _PadLifter(mod)
    updates = {gv: lifter.visit_expr(f) for gv, f in mod.functions.items() if isinstance(f, relax.Function)}
    if not lifter.lifted:
        return mod
    for gv, func in updates.items():
        mod[gv] = func
    return relax.transform.DeadCodeElimination()(mod)  # the pad kernels, now uncalled
