"""Walk an offloaded (Codegen="tensorrt") Relax function op by op.

After ``FuseOpsByPattern`` + ``MergeCompositeFunctions`` an offloaded function binds local
composite functions and calls them; each composite wraps one op (or op + TupleGetItem). The
walker flattens that nesting into the op calls in order, so codegen (spec) and partitioning
(un-offloading a subgraph) share one traversal.
"""
from __future__ import annotations

from typing import Any, Sequence

import tvm
from tvm import relax


class Visitor:
    """Callbacks deciding what a value is: spec references, or re-emitted Relax vars."""

    def call(self, call: relax.Call, args: Sequence[Any]) -> Any:  # an op call
        raise NotImplementedError

    def tuple(self, items: Sequence[Any]) -> Any:
        return list(items)

    def get_item(self, value: Any, index: int) -> Any:
        return value[index]

    def leaf(self, expr) -> Any:  # constants, shapes, prim values: passed as they are
        return expr


def walk(func: relax.Function, args: Sequence[Any], visitor: Visitor) -> Any:
    """Evaluate ``func`` symbolically on ``args`` (one value per param); returns the body's value."""
    env = {p: a for p, a in zip(func.params, args)}
    local_funcs = {}

    def value_of(expr):
        if isinstance(expr, relax.Var) and not isinstance(expr.ty, tvm.ir.PrimType):
            return env[expr]  # (a Var of PrimType is a symbolic dim: a leaf)
        if isinstance(expr, relax.Tuple):
            return visitor.tuple([value_of(f) for f in expr.fields])
        if isinstance(expr, relax.TupleGetItem):
            return visitor.get_item(value_of(expr.tuple_value), int(expr.index))
        if isinstance(expr, relax.Call):
            if isinstance(expr.op, relax.Var) and expr.op in local_funcs:
                return walk(local_funcs[expr.op], [value_of(a) for a in expr.args], visitor)
            if isinstance(expr.op, tvm.ir.Op):
                return visitor.call(expr, [value_of(a) for a in expr.args])
            raise NotImplementedError(f"unexpected call in an offloaded function: {expr.op}")
        return visitor.leaf(expr)

    body = func.body
    for block in body.blocks:
        for binding in block.bindings:
            if isinstance(binding.value, relax.Function):
                local_funcs[binding.var] = binding.value
            else:
                env[binding.var] = value_of(binding.value)
    return value_of(body.body)


def op_calls(func: relax.Function):
    """The op calls of an offloaded function, in order (with the composites flattened)."""
    calls = []

    class _Collect(Visitor):
        def call(self, call, args):
            calls.append(call)
            return None

        def get_item(self, value, index):
            return None

    walk(func, [None] * len(func.params), _Collect())
    return calls
