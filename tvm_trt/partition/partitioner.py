"""partition_for_tensorrt: bind, simplify, annotate with the registry's predicates, merge."""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any, Dict, Optional, Sequence, Tuple

import tvm
from tvm import relax
from tvm.relax.transform import FuseOpsByPattern, MergeCompositeFunctions

from ..core import graph, ir, parsed_marks
from ..core.option_checks import check_ranges
from ..core.options import DEFAULTS, CompileOptions
from ..core.registry import PartitionOptions
from .dynamic_shapes import (
    defined_vars,
    drop_shape_params,
    function_dim_vars,
    hide_symbolic_calls,
    restore_symbolic_calls,
    upper_bounds,
)
from .options import CONFIG_ATTR, NO_MAC_REASON, check_options, check_params
from . import decisions, truncate_double, value_dims, value_shapes
from .checks import op_patterns
from .simplify import simplify
from .subgraphs import inline_functions, short_label, is_mac_subgraph, offloaded_functions, rename_offloaded
from ..core.tvm_log import quiet

log = logging.getLogger("tvm_trt.partition")  # the name users filter on (the module moved)


def _profile_config(config: Dict[str, Any], mod: tvm.IRModule, dynamic_shapes) -> None:
    """Profile ranges travel in the config: the user's (min, opt, max) per symbolic var, and
    the bounds of main's ``tir_var_upper_bound``."""
    ranges = check_ranges(dynamic_shapes)
    main = mod["main"] if any(gv.name_hint == "main" for gv in mod.get_global_vars()) else None
    if ranges and main is not None:
        known = function_dim_vars(main)
        unknown = sorted(set(ranges) - known)
        if unknown:
            raise ValueError(
                f"dynamic_shapes names {unknown}, which are not symbolic dims of main "
                f"(its symbolic dims: {sorted(known) or 'none'})"
            )
    if ranges:
        config["dynamic_shapes"] = ranges
    bounds = upper_bounds(main) if main is not None else {}
    if bounds:
        config["tir_var_upper_bound"] = bounds


def _value_dims_needed(func: relax.Function):
    """Symbolic vars of ``func`` (its types, its shape params) that no tensor input's dims carry."""
    names = set(function_dim_vars(func))
    for p in func.params:
        if isinstance(p.ty, relax.ShapeType) and p.ty.values is not None:
            names |= {str(v) for v in p.ty.values if not isinstance(v, tvm.ir.prim.expr.IntImm)}
    return names - defined_vars(func)


def _with_producers(mod: tvm.IRModule, opts: PartitionOptions) -> PartitionOptions:
    producers = {}
    for func in mod.functions.values():
        if isinstance(func, relax.Function):
            producers.update(relax.analysis.get_var2val(func))
    return dataclasses.replace(opts, producers=producers)


def _merged(mod: tvm.IRModule, check) -> tvm.IRModule:
    """Maximal cycle-free subgraphs (TVM's FuseOpsByPattern + MergeCompositeFunctions)."""
    mod, casts = ir.hide_match_casts(mod)
    mod = FuseOpsByPattern(op_patterns(check), bind_constants=True, annotate_codegen=False)(mod)
    mod, hidden = hide_symbolic_calls(mod)
    mod = MergeCompositeFunctions()(mod)
    mod = restore_symbolic_calls(mod, hidden)
    return ir.restore_match_casts(mod, casts)


def _per_op(mod: tvm.IRModule, check) -> tvm.IRModule:
    """One subgraph per supported op: no merging pass."""
    return FuseOpsByPattern(op_patterns(check), bind_constants=True, annotate_codegen=True)(mod)


def offload(mod: tvm.IRModule, opts: PartitionOptions, recorder: Optional[decisions.Recorder] = None) -> tvm.IRModule:
    """Groups the supported ops into offloaded functions. Where TVM's passes fail on a module,
    one subgraph per op, and failing that nothing is offloaded: partitioning never raises for
    a module TVM itself can compile. ``recorder`` keeps what was decided for each call."""
    recorder = recorder or decisions.Recorder()
    recorder.begin(mod, _with_producers(mod, opts))
    for strategy in (_merged, _per_op):
        try:
            return strategy(mod, recorder.check)
        except Exception as err:  # TVM raises InternalError/TypeError/ValueError alike
            log.warning(
                "partitioning (%s) failed, trying a simpler one: %s: %s",
                strategy.__name__.strip("_"),
                type(err).__name__,
                ir.error_line(err),
            )
    return mod


@quiet  # TVM's C++ warnings go to the debug log
def partition_for_tensorrt(
    mod: tvm.IRModule,
    params: Optional[Dict[str, Any]] = None,
    *,
    version: Optional[Sequence[int]] = DEFAULTS.version,
    use_implicit_batch: Optional[bool] = DEFAULTS.use_implicit_batch,
    remove_no_mac_subgraphs: bool = DEFAULTS.remove_no_mac_subgraphs,
    max_workspace_size: int = DEFAULTS.max_workspace_size,
    use_fp16: bool = DEFAULTS.use_fp16,
    dynamic_shapes: Optional[Dict[str, Sequence[int]]] = DEFAULTS.dynamic_shapes,
    **extra: Any,
) -> Tuple[tvm.IRModule, Dict[str, Any]]:
    """Offload TensorRT-supported subgraphs of ``mod["main"]``.

    Returns ``(mod, config)``: offloaded functions carry ``Codegen="tensorrt"`` and the config
    (JSON) as the attribute ``tvm_trt.config``, so plain ``relax.transform.RunCodegen()`` +
    ``tvm.compile`` build them with these settings. Options beyond the named ones are fields
    of ``tvm_trt.CompileOptions``.

    ``dynamic_shapes={"n": (1, 8, 32)}`` fixes the TensorRT optimization profile (min, opt, max)
    of symbolic vars; shapes outside it are errors at run time. Without it the function's
    ``tir_var_upper_bound`` attribute bounds the profile, else it grows with the shapes met.
    """
    named = dict(
        version=version,
        use_implicit_batch=use_implicit_batch,
        remove_no_mac_subgraphs=remove_no_mac_subgraphs,
        max_workspace_size=max_workspace_size,
        use_fp16=use_fp16,
        dynamic_shapes=dynamic_shapes,
    )
    options = check_options({**named, **extra})
    mod, config, _ = partition_with_decisions(mod, params, options, int8_by_scales="use_int8" not in extra)
    return mod, config


def partition_with_record(mod: tvm.IRModule, params: Optional[Dict[str, Any]] = None, **options: Any):
    """``partition_for_tensorrt(mod, params, **options)`` plus what it decided:
    ``(mod, config, PartitionRecord)``."""
    checked = check_options(options)
    return partition_with_decisions(mod, params, checked, int8_by_scales="use_int8" not in options)


def partition_with_decisions(mod: tvm.IRModule, params, options: CompileOptions, int8_by_scales: bool = True):
    """-> (mod, config, PartitionRecord): for every op call of the partitioned main, the
    ``tensorrt_N`` holding it or why it stays in TVM (its predicate's reason, or the subgraph-level
    rule that put it back: min_subgraph_size, no-MAC removal), recorded as partitioning decided."""
    check_params(params, mod)
    if options.int8_scales and int8_by_scales:  # from tvm_trt.calibrate(): INT8 without calibration calls
        options = options.replace(use_int8=True)
    options = options.resolved()
    opts = options.partition_options()
    config = options.to_json()
    _profile_config(config, mod, options.dynamic_shapes)
    json.dumps(config)  # the config must stay JSON-able: it travels inside the module
    if params:
        mod = relax.transform.BindParams("main", params)(mod)
    parsed = [gv for gv, f in mod.functions.items() if isinstance(f, relax.Function) and parsed_marks.is_parsed(f)]
    if parsed:  # from TensorRT's ONNX parser (frontend/trt_parser.py): already one offloaded function
        mod = tvm.IRModule(dict(mod.functions), attrs=mod.attrs)
        for gv in parsed:
            mod[gv] = mod[gv].with_attr(CONFIG_ATTR, json.dumps(config, sort_keys=True))
        recorder = decisions.Recorder()
        recorder.begin(mod, _with_producers(mod, opts))
        recorder.ops_total += sum(len(graph.op_calls(mod[gv])) for gv in parsed)
        recorder.finish(mod, {gv.name_hint: mod[gv] for gv in parsed})
        return mod, config, recorder.result
    given, recorder = mod, decisions.Recorder()
    mod, prologue = value_shapes.prepare(simplify(value_dims.bind_shapes(mod)))  # shapes from values: TVM first
    mod = offload(mod, dataclasses.replace(opts, kept=prologue) if prologue else opts, recorder)
    mod, to_shapes = value_dims.add_value_params(mod, offloaded_functions(mod), _value_dims_needed)
    mod, not_offloadable = drop_shape_params(mod, offloaded_functions(mod))
    mod, unbound = value_shapes.bind_outputs(
        mod, {n: f for n, f in offloaded_functions(mod).items() if n not in not_offloadable}, prologue
    )
    not_offloadable.update(unbound)
    mod = value_dims.declare_results(
        mod, {n: f for n, f in offloaded_functions(mod).items() if n not in not_offloadable}
    )
    functions = offloaded_functions(mod)
    for name, reason in not_offloadable.items():  # TVM's fused names run to ~1,000 characters: say what it holds
        log.warning("tvm_trt: %s stays in TVM: %s", short_label(functions[name]), reason)
    back = dict(not_offloadable)
    for name, func in offloaded_functions(mod).items():
        if name in back:
            continue
        size = len(graph.op_calls(func))
        if not func.params:  # computes constants (where constant folding failed): TVM keeps it
            back[name] = "in a subgraph without inputs (it computes constants)"
        elif options.remove_no_mac_subgraphs and not is_mac_subgraph(func):
            back[name] = NO_MAC_REASON
        elif size < options.min_subgraph_size:
            back[name] = f"in a subgraph of {size} ops < min_subgraph_size={options.min_subgraph_size}"
        elif options.truncate_double and truncate_double.has_float64(func):
            reason = truncate_double.blocker(func)
            if reason:
                back[name] = reason
    kept: Dict[relax.Var, str] = {}
    if back:
        mod = inline_functions(mod, back, kept)
        recorder.put_back(kept)
    if not offloaded_functions(mod):  # nothing for TensorRT: the module exactly as TVM alone compiles it
        recorder.finish(
            given,
            {},
            unmatched=(
                NO_MAC_REASON
                if options.remove_no_mac_subgraphs
                else f"in a subgraph smaller than min_subgraph_size={options.min_subgraph_size}"
                if options.min_subgraph_size > 1
                else decisions.NOT_MATCHED
            ),
        )
        return given, config, recorder.result
    mod = rename_offloaded(mod)
    if options.truncate_double:  # float64 subgraphs computed in float32, cast at their boundary
        mod, casts = truncate_double.truncate(mod, offloaded_functions(mod))
        recorder.boundary(casts)
    config_json = json.dumps(config, sort_keys=True)
    for name, func in offloaded_functions(mod).items():
        mod[name] = func.with_attr(CONFIG_ATTR, config_json)
    if prologue or to_shapes:  # shape work TVM does for the subgraphs' destinations
        recorder.boundary(value_shapes.prologue_vars(mod["main"], {**prologue, **to_shapes}))
    recorder.finish(mod, offloaded_functions(mod))
    return mod, config, recorder.result
