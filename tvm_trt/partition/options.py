"""The options of ``partition_for_tensorrt`` as partitioning sees them (each defined once, in
``core.options.CompileOptions``), the checks of ``mod`` and ``params``, and the config a partitioned
function carries."""

from __future__ import annotations

from typing import Any, Dict

import tvm
from tvm import relax

from ..core import ir
from ..core.registry import EXCLUDED_REASON  # noqa: F401  (partitioning's interface; the registry gives it)
from ..core.options import (  # noqa: F401  (the version rules are part of partitioning's interface)
    DEFAULT_VERSION,
    DEFAULTS,
    IMPLICIT_BATCH_BELOW,
    CompileOptions,
    resolve_implicit_batch,
    target_version,
    user_option_names,
    warn_unreleased,
)

CODEGEN = "tensorrt"
CONFIG_ATTR = "tvm_trt.config"
NO_MAC_REASON = "in a subgraph without multiply-accumulate ops (remove_no_mac_subgraphs=True)"

# The user's view of CompileOptions (name -> default), kept for callers that list the options.
OPTIONS: Dict[str, Any] = {name: getattr(DEFAULTS, name) for name in user_option_names()}


def check_options(options: Dict[str, Any], what: str = "partition_for_tensorrt") -> CompileOptions:
    """The CompileOptions of ``options``; an OptionError (TypeError and ValueError) names an unknown
    option (with a did-you-mean) or a bad value (with what is allowed), in one line; a target TensorRT
    that does not exist yet is a warning."""
    checked = CompileOptions.from_kwargs(what, allow_internal=what != "partition_for_tensorrt", **options)
    if what == "partition_for_tensorrt":  # not again when tvm_trt.build checks the config partitioning returned
        warn_unreleased(checked.version)
    return checked


def check_params(params, mod=None) -> None:
    """``mod`` an IRModule with ``main``; ``params`` a dict naming ``main``'s parameters, each an
    array of the parameter's dtype and shape (BindParams would bind a wrong shape silently)."""
    if mod is not None and not (
        isinstance(mod, tvm.IRModule) and any(g.name_hint == "main" for g in mod.get_global_vars())
    ):
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
            raise TypeError(
                f"params[{name!r}] must be an array (numpy or tvm.runtime.Tensor), got {type(value).__name__}"
            )
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
    """The config of a function partitioned without options (or with ``overrides``)."""
    base = {"tensorrt_version": list(DEFAULT_VERSION), "use_implicit_batch": False}
    return CompileOptions.from_json({**base, **overrides}).to_json()
