"""The options of ``partition_for_tensorrt`` (names and defaults in ``OPTIONS``), their checks, and the
target TensorRT version / implicit-batch rule they resolve to."""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

import tvm
from tvm import relax

from ..core import tensorrt, ir, registry



CODEGEN = "tensorrt"
CONFIG_ATTR = "tvm_trt.config"
NO_MAC_REASON = "in a subgraph without multiply-accumulate ops (remove_no_mac_subgraphs=True)"
DEFAULT_VERSION = (10, 0, 0)  # when no TensorRT is installed: a TensorRT 10 era target
IMPLICIT_BATCH_BELOW = (7, 0, 0)  # TensorRT < 7 has only implicit-batch networks


def target_version(version: Optional[Sequence[int]]) -> Tuple[int, int, int]:
    if version is not None:
        return registry.as_version(version)
    return tensorrt.capability_version() or DEFAULT_VERSION


def resolve_implicit_batch(use_implicit_batch: Optional[bool], version: Sequence[int]) -> bool:
    """None (the default) -> the batch-axis rule only where the target has nothing but implicit
    batch (TensorRT < 7); an explicit True/False is kept."""
    if use_implicit_batch is None:
        return tuple(version) < IMPLICIT_BATCH_BELOW
    return bool(use_implicit_batch)


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
