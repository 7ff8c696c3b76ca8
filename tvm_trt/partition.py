"""partition_for_tensorrt: bind, simplify, annotate with the registry's predicates, merge."""
from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any, Dict, List, Optional, Sequence, Tuple

import tvm
from tvm import relax
from tvm.relax.dpl import is_op, wildcard
from tvm.relax.transform import FuseOpsByPattern, MergeCompositeFunctions

from . import backend, dynamic, env, graph, ir, quantization, registry, symbolic, tir_kernels
from .registry import PartitionOptions, version_str

CODEGEN = "tensorrt"
CONFIG_ATTR = "tvm_trt.config"
NO_MAC_REASON = "in a subgraph without multiply-accumulate ops (remove_no_mac_subgraphs=True)"
DEFAULT_VERSION = (10, 0, 0)  # when no TensorRT is installed: a TensorRT 10 era target
IMPLICIT_BATCH_BELOW = (7, 0, 0)  # TensorRT < 7 has only implicit-batch networks

log = logging.getLogger(__name__)


def target_version(version: Optional[Sequence[int]]) -> Tuple[int, int, int]:
    if version is not None:
        return registry.as_version(version)
    return backend.capability_version() or DEFAULT_VERSION


def resolve_implicit_batch(use_implicit_batch: Optional[bool], version: Sequence[int]) -> bool:
    """None (the default) -> the batch-axis rule only where the target has nothing but implicit
    batch (TensorRT < 7); an explicit True/False is kept."""
    if use_implicit_batch is None:
        return tuple(version) < IMPLICIT_BATCH_BELOW
    return bool(use_implicit_batch)


def check_call(call: relax.Call, opts: PartitionOptions) -> Optional[str]:
    """Why ``call`` must stay in TVM, or None when TensorRT can take it."""
    name = call.op.name
    entry = registry.get(name)
    if entry is None:
        return f"no TensorRT converter registered for {name}"
    if any(ir.dims(ty) is None and ir.ndim(ty) >= 0 for ty in ir.tensor_types(call)):
        return (f"{name}: output shape depends on the data (TensorRT needs output shapes computable "
                "from input shapes)")
    if tuple(opts.version) < entry.min_version:
        return f"{name} needs TensorRT >= {version_str(entry.min_version)} (target {version_str(opts.version)})"
    dims = {v for t in [t for a in call.args for t in ir.tensor_types(a)] + ir.tensor_types(call)
            for d in ir.dims(t) or [] if symbolic.try_parse(d) is None for v in symbolic.free_vars(d)}
    for arg in call.args:
        for value in arg.fields if isinstance(arg, relax.Tuple) else [arg]:
            if isinstance(value, relax.Var) and not ir.is_tensor(value) and not (
                isinstance(value.ty, tvm.ir.PrimType) and str(value.name) in dims  # a symbolic dim (slice bound)
            ):
                return f"{name} takes a run-time {type(value.ty).__name__} ({value.name}): TensorRT inputs are tensors"
    for ty in [t for a in call.args for t in ir.tensor_types(a)] + ir.tensor_types(call):
        if ty.dtype not in entry.dtypes:
            return f"dtype {ty.dtype} is not supported by the TensorRT converter for {name}"
        shape = ir.dims(ty)
        if shape is None:
            return "tensor of unknown rank" if ir.ndim(ty) < 0 else "tensor of unknown shape"
        for axis, d in enumerate(shape):
            reason = symbolic.try_parse(d)
            if reason:
                return reason
            if isinstance(d, str) and axis and opts.use_implicit_batch:  # implicit-batch TensorRT (< 7)
                return f"dynamic dim at axis {axis}: only the batch axis may be dynamic with use_implicit_batch=True"
    if entry.check is None:
        return None
    try:
        return entry.check(call, opts)
    except Exception as err:  # a predicate bug must not stop partitioning: the op stays in TVM
        log.warning("the predicate of %s raised %s: %s", name, type(err).__name__, err)
        return f"the predicate of {name} raised {type(err).__name__}: {err}"


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
    FoldBatchnormToConv2D + FoldConstant compiles a kernel per folded weight, ~1 s per conv.

    FoldConstant compiles the ops it folds and fails on some that TVM's build would reject only
    later, or never (integer power, some rms_norm axes): then the module is not folded.

    Quantized weights (``dequantize(int8 constant)``) are hidden from folding: TensorRT needs
    their DQ to choose INT8 kernels."""
    mod, quantized_weights = quantization.hide_quantized_weights(tir_kernels.lift_pads(mod))
    return quantization.restore_quantized_weights(_fold(mod), quantized_weights)


def _fold(mod: tvm.IRModule) -> tvm.IRModule:
    to_dataflow = relax.transform.ConvertToDataflow(min_size=1)  # pattern fusion only looks inside dataflow blocks
    try:
        return tvm.transform.Sequential(
            [to_dataflow, relax.transform.FoldConstant(), relax.transform.CanonicalizeBindings()]
        )(_known_shapes(mod))
    except Exception as err:  # TVM raises InternalError/AssertionError/... from its kernels
        log.warning("constant folding failed, partitioning without it: %s: %s", type(err).__name__, ir.error_line(err))
    try:
        return tvm.transform.Sequential([to_dataflow, relax.transform.CanonicalizeBindings()])(mod)
    except Exception as err:
        log.warning("canonicalization failed, partitioning the module as given: %s", ir.error_line(err))
        return mod


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


# Every partition_for_tensorrt option with its default, in one place: these keys are all that
# partition_for_tensorrt, --config files and tvm_trt.build accept (anything else raises TypeError
# naming it and these). A new option: add it here, then read it from the config where it acts.
OPTIONS: Dict[str, Any] = {
    "version": None,  # target TensorRT: (8, 6), "8.6.1"; default the installed one
    "use_implicit_batch": None,  # None: the batch-axis rule below TensorRT 7 only
    "remove_no_mac_subgraphs": False,
    "max_workspace_size": 1 << 30,
    "use_fp16": False,
    "build_at_compile_time": False,
    "dynamic_shapes": None,  # {symbolic var: (min, opt, max)}: fixed optimization profiles
    "use_int8": False,  # INT8 (README "INT8"); TVM_TENSORRT_USE_INT8 overrides
    "int8_calibration_calls": None,  # calls that calibrate; TENSORRT_NUM_CALI_INT8 overrides
    "int8_calibration": "max",  # or "percentile:P"; TVM_TENSORRT_INT8_CALIBRATION overrides
    "int8_scales": None,  # from tvm_trt.calibrate(): no calibration calls
    "int8_calibration_run": None,  # set by tvm_trt.calibrate() to collect its scales
    "fallback": True,  # tvm_trt.build also compiles each subgraph with TVM, run where TensorRT cannot
}
# Keys a config carries beyond the options: the resolved version, the host tvm_trt.build sets,
# main's tir_var_upper_bound (profile bounds).
CONFIG_ONLY = ("tensorrt_version", "host_target", "tir_var_upper_bound")


def check_options(options: Dict[str, Any], what: str = "partition_for_tensorrt") -> None:
    """TypeError for an option nobody reads (a typo such as use_fp17 would pass silently)."""
    known = set(OPTIONS) | (set(CONFIG_ONLY) if what != "partition_for_tensorrt" else set())
    unknown = sorted(k for k in options if k not in known)
    if unknown:
        raise TypeError(
            f"{what}: unknown option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(sorted(known))}"
        )
    size = options.get("max_workspace_size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or not 0 < size < 1 << 63):
        raise TypeError(f"{what}: max_workspace_size must be a positive int (bytes) below 2**63, got {size!r}")


def check_params(params, mod=None) -> None:
    """``mod`` an IRModule with ``main``; ``params`` a dict naming ``main``'s parameters, each an
    array of the parameter's dtype and shape (BindParams would bind a wrong shape silently)."""
    if mod is not None and not (isinstance(mod, tvm.IRModule) and any(g.name_hint == "main" for g in mod.get_global_vars())):
        raise TypeError(f"mod must be a tvm.IRModule with a Relax function 'main', got {type(mod).__name__}")
    if params is None:
        return
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict {{name: array}}, got {type(params).__name__}")
    if mod is None:
        return
    declared = {p.name: p.ty for p in mod["main"].params}
    for key, value in params.items():
        name = key.name if isinstance(key, relax.Var) else key
        if name not in declared:
            raise ValueError(f"params: {name!r} is not a parameter of main; its parameters are {list(declared)}")
        shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
        if shape is None or dtype is None:
            raise TypeError(f"params[{name!r}] must be an array (numpy or tvm.runtime.Tensor), got {type(value).__name__}")
        want = declared[name]
        dims = ir.dims(want) if hasattr(want, "dtype") else None
        if dims is None:
            continue
        fits = len(dims) == len(shape) and all(not isinstance(d, int) or d == s for d, s in zip(dims, shape))
        if not fits or str(dtype) != str(want.dtype):
            raise ValueError(
                f"params[{name!r}] is {list(shape)} {dtype}; main's parameter {name} is {list(dims)} {want.dtype}"
            )


def default_config(**overrides) -> Dict[str, Any]:
    config = {
        "tensorrt_version": list(DEFAULT_VERSION),
        "use_implicit_batch": False,
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


def _with_producers(mod: tvm.IRModule, opts: PartitionOptions) -> PartitionOptions:
    producers = {}
    for func in mod.functions.values():
        if isinstance(func, relax.Function):
            producers.update(relax.analysis.get_var2val(func))
    return dataclasses.replace(opts, producers=producers)


def _merged(mod: tvm.IRModule, opts: PartitionOptions) -> tvm.IRModule:
    """Maximal cycle-free subgraphs (TVM's FuseOpsByPattern + MergeCompositeFunctions)."""
    mod, casts = ir.hide_match_casts(mod)
    mod = FuseOpsByPattern(_patterns(opts), bind_constants=True, annotate_codegen=False)(mod)
    mod, hidden = dynamic.hide_symbolic_calls(mod)
    mod = MergeCompositeFunctions()(mod)
    mod = dynamic.restore_symbolic_calls(mod, hidden)
    return ir.restore_match_casts(mod, casts)


def _per_op(mod: tvm.IRModule, opts: PartitionOptions) -> tvm.IRModule:
    """One subgraph per supported op: no merging pass."""
    return FuseOpsByPattern(_patterns(opts), bind_constants=True, annotate_codegen=True)(mod)


def offload(mod: tvm.IRModule, opts: PartitionOptions) -> tvm.IRModule:
    """Groups the supported ops into offloaded functions. Where TVM's passes fail on a module,
    one subgraph per op, and failing that nothing is offloaded: partitioning never raises for
    a module TVM itself can compile."""
    opts = _with_producers(mod, opts)
    for strategy in (_merged, _per_op):
        try:
            return strategy(mod, opts)
        except Exception as err:  # TVM raises InternalError/TypeError/ValueError alike
            log.warning("partitioning (%s) failed, trying a simpler one: %s: %s",
                        strategy.__name__.strip("_"), type(err).__name__, ir.error_line(err))
    return mod


def partition_for_tensorrt(
    mod: tvm.IRModule,
    params: Optional[Dict[str, Any]] = None,
    *,
    version: Optional[Sequence[int]] = None,
    use_implicit_batch: Optional[bool] = None,
    remove_no_mac_subgraphs: bool = False,
    max_workspace_size: int = 1 << 30,
    use_fp16: bool = False,
    dynamic_shapes: Optional[Dict[str, Sequence[int]]] = None,
    **extra: Any,
) -> Tuple[tvm.IRModule, Dict[str, Any]]:
    """Offload TensorRT-supported subgraphs of ``mod["main"]``.

    Returns ``(mod, config)``: offloaded functions carry ``Codegen="tensorrt"`` and the config
    (JSON) as the attribute ``tvm_trt.config``, so plain ``relax.transform.RunCodegen()`` +
    ``tvm.compile`` build them with these settings. Options beyond the named ones must be keys
    of ``OPTIONS``.

    ``dynamic_shapes={"n": (1, 8, 32)}`` fixes the TensorRT optimization profile (min, opt, max)
    of symbolic vars; shapes outside it are errors at run time. Without it the function's
    ``tir_var_upper_bound`` attribute bounds the profile, else it grows with the shapes met.
    """
    check_options({**extra, "max_workspace_size": max_workspace_size})
    check_params(params, mod)
    version = target_version(version)
    opts = PartitionOptions(version=version, use_implicit_batch=resolve_implicit_batch(use_implicit_batch, version))
    if extra.get("int8_scales"):  # from tvm_trt.calibrate(): INT8 without calibration calls
        extra.setdefault("use_int8", True)
    if extra.get("int8_calibration") is not None:  # a bad method fails here, not at the first call
        env.calibration_method(str(extra["int8_calibration"]), "int8_calibration")
    config = default_config(
        tensorrt_version=list(opts.version),
        use_implicit_batch=opts.use_implicit_batch,
        remove_no_mac_subgraphs=remove_no_mac_subgraphs,
        max_workspace_size=int(max_workspace_size),
        use_fp16=bool(use_fp16),
        **extra,
    )
    _profile_config(config, mod, dynamic_shapes)
    json.dumps(config)  # the config must stay JSON-able: it travels inside the module
    if params:
        mod = relax.transform.BindParams("main", params)(mod)
    given = mod
    mod = offload(simplify(mod), opts)
    mod, not_offloadable = dynamic.drop_shape_params(mod, offloaded_functions(mod))
    for name, reason in not_offloadable.items():
        log.warning("tvm_trt: subgraph %s stays in TVM: %s", name, reason)
    back = list(not_offloadable)
    # A subgraph without inputs computes constants (where constant folding failed): TVM keeps it.
    back += [name for name, f in offloaded_functions(mod).items() if not f.params and name not in back]
    if remove_no_mac_subgraphs:
        back += [name for name, f in offloaded_functions(mod).items()
                 if not is_mac_subgraph(f) and f.params and name not in back]
    if back:
        mod = _inline(mod, back)
    if not offloaded_functions(mod):
        return given, config  # nothing for TensorRT: the module exactly as TVM alone compiles it
    mod = rename_offloaded(mod)
    config_json = json.dumps(config, sort_keys=True)
    for name, func in offloaded_functions(mod).items():
        mod[name] = func.with_attr(CONFIG_ATTR, config_json)
    return mod, config


@relax.expr_functor.mutator
class _Renamer(relax.expr_functor.PyExprMutator):
    def __init__(self, mapping):
        super().__init__()
        self.mapping = mapping

    def visit_global_var_(self, gv):
        return self.mapping.get(gv.name_hint, gv)


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
