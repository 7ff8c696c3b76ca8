"""The offloaded functions of a partitioned module: listing, multiply-accumulate test, inlining back
into ``main``, and naming them ``tensorrt_0..N``."""

from __future__ import annotations

from typing import Dict, List

import tvm
from tvm import relax

from ..core import graph, registry
from .options import CODEGEN


def offloaded_functions(mod: tvm.IRModule) -> Dict[str, relax.Function]:
    return {
        gv.name_hint: f
        for gv, f in mod.functions.items()
        if isinstance(f, relax.Function) and f.attrs is not None and f.attrs.get("Codegen") == CODEGEN
    }


def is_mac_subgraph(func: relax.Function) -> bool:
    return any(getattr(registry.get(c.op.name), "mac", False) for c in graph.op_calls(func))


class _Recorder(graph.Emitter):
    """Re-emits an offloaded function's op calls, noting for each new var why it is back in TVM."""

    def __init__(self, builder, reason: str, kept: Dict[relax.Var, str]):
        super().__init__(builder)
        self.reason, self.kept = reason, kept

    def call(self, c, args):
        var = super().call(c, args)
        self.kept[var] = self.reason
        return var


@relax.expr_functor.mutator
class _Inliner(relax.expr_functor.PyExprMutator):
    """Puts the op calls of the named offloaded functions back into their callers."""

    def __init__(self, mod, reasons: Dict[str, str], kept: Dict[relax.Var, str]):
        super().__init__(mod)
        self.mod_ = mod
        self.reasons, self.kept = reasons, kept

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if isinstance(call.op, relax.GlobalVar) and call.op.name_hint in self.reasons:
            recorder = _Recorder(self.builder_, self.reasons[call.op.name_hint], self.kept)
            func = self.mod_[call.op]
            caller_dims = graph.caller_dims(func, call.args)
            if caller_dims:  # the function's own symbolic vars would leak into the caller unbound
                func = func.bind_symbolic_vars(caller_dims)
            return graph.walk(func, list(call.args), recorder)
        return call


def inline_functions(mod: tvm.IRModule, reasons: Dict[str, str], kept: Dict[relax.Var, str]) -> tvm.IRModule:
    """Inlines the offloaded functions named in ``reasons`` ({name: why}); ``kept`` receives the
    reason of each op call put back (by its new var)."""
    names = list(reasons)
    inliner = _Inliner(mod, reasons, kept)
    for gv, func in list(mod.functions.items()):
        if (
            isinstance(func, relax.Function)
            and gv.name_hint not in names
            and (func.attrs is None or func.attrs.get("Codegen") is None)
        ):
            mod[gv] = inliner.visit_expr(func)
    for name in names:
        del mod[name]
    return mod


def inline_offloaded(mod: tvm.IRModule, reasons: Dict[str, str]) -> tvm.IRModule:
    """A copy of ``mod`` with the offloaded functions named in ``reasons`` back in their callers."""
    copy = tvm.IRModule(dict(mod.functions), attrs=mod.attrs, global_infos=mod.global_infos)
    return inline_functions(copy, dict(reasons), {})


@relax.expr_functor.mutator
class _Renamer(relax.expr_functor.PyExprMutator):
    def __init__(self, mapping):
        super().__init__()
        self.mapping = mapping

    def visit_global_var_(self, gv):
        return self.mapping.get(gv.name_hint, gv)


def short_label(func: relax.Function) -> str:
    """A subgraph named before ``rename_offloaded`` gives it its short name: its size and end ops."""
    names = [c.op.name.replace("relax.", "") for c in graph.op_calls(func)]
    if len(names) <= 2:
        return f"the subgraph of {' + '.join(names) or 'no ops'}"
    return f"the subgraph of {len(names)} ops ({names[0]} ... {names[-1]})"


def rename_offloaded(mod: tvm.IRModule) -> tvm.IRModule:
    """Offloaded functions become ``tensorrt_0``, ``tensorrt_1``, ... in the order ``main`` calls
    them: short, stable names for symbols, logs and errors (MergeCompositeFunctions names them
    after every op they hold, ~1,000 characters on a CNN). The report keeps the op summary."""
    offloaded = offloaded_functions(mod)
    order: List[str] = []

    for block in mod["main"].body.blocks:
        for binding in block.bindings:
            value = binding.value
            if isinstance(value, relax.Call) and isinstance(value.op, relax.GlobalVar):
                name = value.op.name_hint
                if name in offloaded and name not in order:
                    order.append(name)
    order += sorted(n for n in offloaded if n not in order)  # called from elsewhere: still named
    mapping = {}
    for i, old in enumerate(order):
        mapping[old] = relax.GlobalVar(f"{CODEGEN}_{i}")
        relax.expr._update_type(mapping[old], mod.get_global_var(old).ty)  # callers are typed through it
    renamer = _Renamer(mapping)
    out = tvm.IRModule(attrs=mod.attrs, global_infos=mod.global_infos)
    for gv, func in mod.functions.items():
        if gv.name_hint in mapping:
            new_gv = mapping[gv.name_hint]
            out[new_gv] = func.with_attr("global_symbol", new_gv.name_hint)
        elif isinstance(func, relax.Function):
            out[gv] = renamer.visit_expr(func)
        else:
            out[gv] = func
    return out
