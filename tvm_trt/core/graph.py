"""Walk an offloaded (Codegen="tensorrt") Relax function op by op.

After ``FuseOpsByPattern`` + ``MergeCompositeFunctions`` an offloaded function binds local
composite functions and calls them; each composite wraps one op (or op + TupleGetItem). The
walker flattens that nesting into the op calls in order, so codegen (spec) and partitioning
(un-offloading a subgraph) share one traversal.
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

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


class Emitter(Visitor):
    """Re-emits the op calls into a BlockBuilder (types are inferred again on the way). With
    ``dims`` ({name: symbolic var}), symbolic dims in arguments are rewritten in those vars
    (composite functions carry their own copies of the caller's vars)."""

    def __init__(self, builder, dims=None):
        self.builder = builder
        self.dims = dims

    def call(self, c, args):
        if self.dims:
            args = [self._rebind(a) for a in args]
        return self.builder.emit(relax.Call(c.op, args, c.attrs, c.ty_args))

    def _rebind(self, arg):
        from . import dim_expr  # graph stays free of module-level cycles

        def prim(e):
            if not isinstance(getattr(e, "ty", None), tvm.ir.PrimType) or isinstance(e, tvm.ir.prim.expr.IntImm):
                return e
            return dim_expr.to_prim(str(e), self.dims)

        if isinstance(arg, relax.Tuple):
            return relax.Tuple([prim(f) for f in arg.fields])
        if isinstance(arg, relax.ShapeExpr):
            return relax.ShapeExpr([prim(v) for v in arg.values])
        return prim(arg)

    def tuple(self, items):
        return relax.Tuple(items)

    def get_item(self, value, index):
        if isinstance(value, relax.Tuple):
            return value.fields[index]
        return self.builder.emit(relax.TupleGetItem(value, index))


def walk(func: relax.Function, args: Sequence[Any], visitor: Visitor, top: bool = True) -> Any:
    """Evaluate ``func`` symbolically on ``args`` (one value per param); returns the body's value.
    While a binding of the offloaded function itself (``top``) is evaluated, ``visitor.binding``
    holds its variable's name: the ops of a composite are named by the binding that calls it."""
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
                local = local_funcs[expr.op]
                dims = caller_dims(local, expr.args)
                if dims:  # a composite's symbolic vars are its own copies of the enclosing function's
                    local = local.bind_symbolic_vars(dims)
                return walk(local, [value_of(a) for a in expr.args], visitor, top=False)
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
                if top:
                    visitor.binding = binding.var.name
                env[binding.var] = value_of(binding.value)
    return value_of(body.body)


def _dim_values(expr, ty) -> List:
    """The dims a tensor or shape value carries in its type (or, for a shape literal, its values)."""
    if isinstance(expr, relax.ShapeExpr):
        return list(expr.values)
    if isinstance(ty, relax.ShapeType):
        return list(ty.values) if ty.values is not None else []
    shape = getattr(ty, "shape", None)
    return list(shape.values) if isinstance(shape, relax.ShapeExpr) else []


def caller_dims(func: relax.Function, args) -> Dict[tvm.tirx.Var, tvm.ir.PrimExpr]:
    """{symbolic var of the function: the caller's dim at the same place of the same argument}."""
    out: Dict[tvm.tirx.Var, tvm.ir.PrimExpr] = {}
    for param, arg in zip(func.params, args):
        theirs = _dim_values(arg, arg.ty)
        ours = _dim_values(None, param.ty)
        if len(ours) != len(theirs):
            continue
        for own, caller in zip(ours, theirs):
            if isinstance(own, tvm.tirx.Var) and not own.same_as(caller) and own not in out:
                out[own] = caller
    return out


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
