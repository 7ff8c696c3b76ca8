"""partition_for_tensorrt: bind, simplify, annotate with the registry's predicates, merge."""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Dict, List, Optional, Sequence, Tuple

import tvm
from tvm import relax
from tvm.relax.dpl import is_op, wildcard
from tvm.relax.transform import FuseOpsByPattern, MergeCompositeFunctions

from . import backend, graph, ir, quantization, registry
from .registry import PartitionOptions, version_str

CODEGEN = "tensorrt"
CONFIG_ATTR = "tvm_trt.config"
NO_MAC_REASON = "in a subgraph without multiply-accumulate ops (remove_no_mac_subgraphs=True)"
DEFAULT_VERSION = (10, 0, 0)  # when no TensorRT is installed: a TensorRT 10 era target


def target_version(version: Optional[Sequence[int]]) -> Tuple[int, int, int]:
    if version is not None:
        return registry.as_version(tuple(version))
    return backend.capability_version() or DEFAULT_VERSION


def check_call(call: relax.Call, opts: PartitionOptions) -> Optional[str]:
    """Why ``call`` must stay in TVM, or None when TensorRT can take it."""
    name = call.op.name
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
            return "tensor of unknown rank"
        dynamic = [i for i, d in enumerate(shape) if isinstance(d, str)]
        if any(i != 0 for i in dynamic):
            return f"dynamic dim at axis {[i for i in dynamic if i][0]}: only the batch axis may be dynamic"
    return entry.check(call, opts) if entry.check else None


def _patterns(opts: PartitionOptions):
    def check(ctx):
        # Predicates may look through bindings (a conv weight that is dequantize(int8 constant)).
        bound = _Bindings(ctx.value_to_bound_var)
        return check_call(ctx.annotated_expr["root"], dataclasses.replace(opts, bindings=bound)) is None

    pats = []
    for name, entry in registry.entries().items():
        for n in entry.arities or (tvm.ir.Op.get(name).num_inputs,):
            root = is_op(name)(*[wildcard() for _ in range(n)])
            pats.append((f"{CODEGEN}.{name[len('relax.'):]}", root, {"root": root}, check))
    return pats


class _Bindings:
    """var -> bound value, inverted from a PatternCheckContext on first use."""

    def __init__(self, value_to_var):
        self._source = value_to_var
        self._map = None

    def get(self, var, default=None):
        if self._map is None:
            self._map = {v: k for k, v in self._source.items()}
        return self._map.get(var, default)


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
    mod, quantized_weights = quantization.hide_quantized_weights(mod)  # int8 weights keep their DQ
    return quantization.restore_quantized_weights(seq(mod), quantized_weights)


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
            builder = self.builder_

            class _Emit(graph.Visitor):
                def call(self, c, args):
                    return builder.emit(relax.Call(c.op, args, c.attrs, c.ty_args))

                def tuple(self, items):
                    return relax.Tuple(items)

                def get_item(self, value, index):
                    if isinstance(value, relax.Tuple):
                        return value.fields[index]
                    return builder.emit(relax.TupleGetItem(value, index))

            return graph.walk(self.mod_[call.op], list(call.args), _Emit())
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


def partition_for_tensorrt(
    mod: tvm.IRModule,
    params: Optional[Dict[str, Any]] = None,
    *,
    version: Optional[Sequence[int]] = None,
    use_implicit_batch: bool = True,
    remove_no_mac_subgraphs: bool = False,
    max_workspace_size: int = 1 << 30,
    use_fp16: bool = False,
    **extra: Any,
) -> Tuple[tvm.IRModule, Dict[str, Any]]:
    """Offload TensorRT-supported subgraphs of ``mod["main"]``.

    Returns ``(mod, config)``: offloaded functions carry ``Codegen="tensorrt"`` and the config
    (JSON) as the attribute ``tvm_trt.config``, so plain ``relax.transform.RunCodegen()`` +
    ``tvm.compile`` build them with these settings.
    """
    opts = PartitionOptions(version=target_version(version), use_implicit_batch=use_implicit_batch)
    if extra.get("int8_scales"):  # from tvm_trt.calibrate(): INT8 without calibration calls
        extra.setdefault("use_int8", True)
    config = default_config(
        tensorrt_version=list(opts.version),
        use_implicit_batch=use_implicit_batch,
        remove_no_mac_subgraphs=remove_no_mac_subgraphs,
        max_workspace_size=int(max_workspace_size),
        use_fp16=bool(use_fp16),
        **extra,
    )
    json.dumps(config)  # the config must stay JSON-able: it travels inside the module
    if params:
        mod = relax.transform.BindParams("main", params)(mod)
    mod = simplify(mod)
    mod = FuseOpsByPattern(_patterns(opts), bind_constants=True, annotate_codegen=False)(mod)
    mod = MergeCompositeFunctions()(mod)
    if remove_no_mac_subgraphs:
        no_mac = [name for name, f in offloaded_functions(mod).items() if not is_mac_subgraph(f)]
        if no_mac:
            mod = _inline(mod, no_mac)
    config_json = json.dumps(config, sort_keys=True)
    for name, func in offloaded_functions(mod).items():
        mod[name] = func.with_attr(CONFIG_ATTR, config_json)
    return mod, config
