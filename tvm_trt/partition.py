"""partition_for_tensorrt: bind, simplify, annotate with the registry's predicates, merge."""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Sequence, Tuple

import tvm
from tvm import relax
from tvm.relax.dpl import is_op, wildcard
from tvm.relax.transform import FuseOpsByPattern, MergeCompositeFunctions

from . import backend, dynamic, graph, ir, registry, symbolic
from .registry import PartitionOptions, version_str

CODEGEN = "tensorrt"
CONFIG_ATTR = "tvm_trt.config"
NO_MAC_REASON = "in a subgraph without multiply-accumulate ops (remove_no_mac_subgraphs=True)"
logger = logging.getLogger("tvm_trt")
DEFAULT_VERSION = (10, 0, 0)  # when no TensorRT is installed: a TensorRT 10 era target


def target_version(version: Optional[Sequence[int]]) -> Tuple[int, int, int]:
    if version is not None:
        return registry.as_version(tuple(version))
    return backend.capability_version() or DEFAULT_VERSION


def check_call(call: relax.Call, opts: PartitionOptions) -> Optional[str]:
    """Why ``call`` must stay in TVM, or None when TensorRT can take it."""
    name = call.op.name
    if any(ir.dims(ty) is None for ty in ir.tensor_types(call)):
        return (f"{name}: output shape depends on the data (TensorRT needs output shapes computable "
                "from input shapes)")
    entry = registry.get(name)
    if entry is None:
        return f"no TensorRT converter registered for {name}"
    if tuple(opts.version) < entry.min_version:
        return f"{name} needs TensorRT >= {version_str(entry.min_version)} (target {version_str(opts.version)})"
    for ty in [t for a in call.args for t in ir.tensor_types(a)] + ir.tensor_types(call):
        if ty.dtype not in entry.dtypes:
            return f"dtype {ty.dtype} is not supported by the TensorRT converter for {name}"
        shape = ir.dims(ty)
        if shape is None:
            return "input tensor of unknown shape"
        for d in shape:
            reason = symbolic.try_parse(d)
            if reason:
                return reason
    return entry.check(call, opts) if entry.check else None


def _patterns(opts: PartitionOptions):
    def check(ctx):
        return check_call(ctx.annotated_expr["root"], opts) is None

    pats = []
    for name, entry in registry.entries().items():
        for n in entry.arities or (tvm.ir.Op.get(name).num_inputs,):
            root = is_op(name)(*[wildcard() for _ in range(n)])
            pats.append((f"{CODEGEN}.{name[len('relax.'):]}", root, {"root": root}, check))
    return pats


@relax.expr_functor.mutator
class _KnownShapes(relax.expr_functor.PyExprMutator):
    """``R.shape_of(x)`` -> ``R.shape([...])`` where ``x``'s shape is known: the value then no
    longer depends on ``x`` (a TensorRT subgraph computing ``x`` would otherwise feed TVM code
    that feeds it back, splitting the subgraph), and TVM evaluates it from the symbolic vars."""

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if isinstance(call.op, tvm.ir.Op) and call.op.name == "relax.shape_of":
            shape = getattr(call.args[0].ty, "shape", None)
            if isinstance(shape, relax.ShapeExpr):
                return relax.ShapeExpr(shape.values)
        return call


def _known_shapes(mod: tvm.IRModule) -> tvm.IRModule:
    for gv, func in list(mod.functions.items()):
        if isinstance(func, relax.Function):
            mod[gv] = _KnownShapes(mod).visit_expr(func)
    return mod


def simplify(mod: tvm.IRModule) -> tvm.IRModule:
    """Fold constant expressions. batch_norm is kept (our converter offloads it as a per-channel
    scale + shift that TensorRT fuses into the preceding convolution): TVM's
    FoldBatchnormToConv2D + FoldConstant compiles a kernel per folded weight, ~1 s per conv."""
    seq = tvm.transform.Sequential(
        [
            relax.transform.ConvertToDataflow(min_size=1),  # pattern fusion only looks inside dataflow blocks
            relax.transform.FoldConstant(),
            relax.transform.CanonicalizeBindings(),
        ]
    )
    return seq(_known_shapes(mod))


def offloaded_functions(mod: tvm.IRModule) -> Dict[str, relax.Function]:
    return {
        gv.name_hint: f
        for gv, f in mod.functions.items()
        if isinstance(f, relax.Function) and f.attrs is not None and f.attrs.get("Codegen") == CODEGEN
    }


def is_mac_subgraph(func: relax.Function) -> bool:
    return any(getattr(registry.get(c.op.name), "mac", False) for c in graph.op_calls(func))


@relax.expr_functor.mutator
class _Inliner(relax.expr_functor.PyExprMutator):
    """Puts the op calls of the named offloaded functions back into their callers."""

    def __init__(self, mod, names):
        super().__init__(mod)
        self.mod_ = mod
        self.names = set(names)

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if isinstance(call.op, relax.GlobalVar) and call.op.name_hint in self.names:
            return graph.walk(self.mod_[call.op], list(call.args), graph.Emitter(self.builder_))
        return call


def _inline(mod: tvm.IRModule, names: List[str]) -> tvm.IRModule:
    inliner = _Inliner(mod, names)
    for gv, func in list(mod.functions.items()):
        if isinstance(func, relax.Function) and gv.name_hint not in names and (
            func.attrs is None or func.attrs.get("Codegen") is None
        ):
            mod[gv] = inliner.visit_expr(func)
    for name in names:
        del mod[name]
    return mod


def default_config(**overrides) -> Dict[str, Any]:
    config = {
        "tensorrt_version": list(DEFAULT_VERSION),
        "use_implicit_batch": True,
        "remove_no_mac_subgraphs": False,
        "max_workspace_size": 1 << 30,
        "use_fp16": False,
    }
    config.update(overrides)
    return config


def _profile_config(config: Dict[str, Any], mod: tvm.IRModule, dynamic_shapes) -> None:
    """Profile ranges travel in the config: the user's (min, opt, max) per symbolic var, and
    the bounds of main's ``tir_var_upper_bound``."""
    ranges = dynamic.check_ranges(dynamic_shapes)
    main = mod["main"] if any(gv.name_hint == "main" for gv in mod.get_global_vars()) else None
    if ranges and main is not None:
        known = dynamic.free_vars(main)
        unknown = sorted(set(ranges) - known)
        if unknown:
            raise ValueError(f"dynamic_shapes names {unknown}, which are not symbolic dims of main "
                             f"(its symbolic dims: {sorted(known) or 'none'})")
    if ranges:
        config["dynamic_shapes"] = ranges
    bounds = dynamic.upper_bounds(main) if main is not None else {}
    if bounds:
        config["tir_var_upper_bound"] = bounds


def partition_for_tensorrt(
    mod: tvm.IRModule,
    params: Optional[Dict[str, Any]] = None,
    *,
    version: Optional[Sequence[int]] = None,
    use_implicit_batch: bool = True,
    remove_no_mac_subgraphs: bool = False,
    max_workspace_size: int = 1 << 30,
    use_fp16: bool = False,
    dynamic_shapes: Optional[Dict[str, Sequence[int]]] = None,
    **extra: Any,
) -> Tuple[tvm.IRModule, Dict[str, Any]]:
    """Offload TensorRT-supported subgraphs of ``mod["main"]``.

    Returns ``(mod, config)``: offloaded functions carry ``Codegen="tensorrt"`` and the config
    (JSON) as the attribute ``tvm_trt.config``, so plain ``relax.transform.RunCodegen()`` +
    ``tvm.compile`` build them with these settings.

    ``dynamic_shapes={"n": (1, 8, 32)}`` fixes the TensorRT optimization profile (min, opt, max)
    of symbolic vars; shapes outside it are errors at run time. Without it the function's
    ``tir_var_upper_bound`` attribute bounds the profile, else it grows with the shapes met.
    """
    opts = PartitionOptions(version=target_version(version), use_implicit_batch=use_implicit_batch)
    config = default_config(
        tensorrt_version=list(opts.version),
        use_implicit_batch=use_implicit_batch,
        remove_no_mac_subgraphs=remove_no_mac_subgraphs,
        max_workspace_size=int(max_workspace_size),
        use_fp16=bool(use_fp16),
        **extra,
    )
    _profile_config(config, mod, dynamic_shapes)
    json.dumps(config)  # the config must stay JSON-able: it travels inside the module
    if params:
        mod = relax.transform.BindParams("main", params)(mod)
    mod = simplify(mod)
    mod = FuseOpsByPattern(_patterns(opts), bind_constants=True, annotate_codegen=False)(mod)
    mod, hidden = dynamic.hide_symbolic_calls(mod)
    mod = MergeCompositeFunctions()(mod)
    mod = dynamic.restore_symbolic_calls(mod, hidden)
    mod, not_offloadable = dynamic.drop_shape_params(mod, offloaded_functions(mod))
    for name, reason in not_offloadable.items():
        logger.warning("tvm_trt: subgraph %s stays in TVM: %s", name, reason)
    back = list(not_offloadable)
    if remove_no_mac_subgraphs:
        back += [name for name, f in offloaded_functions(mod).items() if not is_mac_subgraph(f) and name not in back]
    if back:
        mod = _inline(mod, back)
    config_json = json.dumps(config, sort_keys=True)
    for name, func in offloaded_functions(mod).items():
        mod[name] = func.with_attr(CONFIG_ATTR, config_json)
    return mod, config
