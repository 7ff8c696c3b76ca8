"""Precision requests checked against the GPU: FP16 needs compute capability >= 5.3, INT8 >= 6.1,
FP8 >= 8.9 (TensorRT's support matrix; a Jetson Nano, 5.3, has FP16 only).

At compile time (``tvm_trt.build`` for a CUDA target whose ``arch`` is given) a request the arch
cannot serve is an error naming both. At run time, where the precision came from the environment
or the library meets an older GPU, a warning and the engine is built in FP32 instead.
"""

from __future__ import annotations

import logging
import warnings
from typing import Optional, Tuple

log = logging.getLogger("tvm_trt")

MIN_SM = {"fp16": (5, 3), "int8": (6, 1), "fp8": (8, 9)}
DEFAULT_ARCH = "sm_50"  # what TVM picks when it cannot detect a GPU: not the user's choice


def parse_sm(text: str) -> Optional[Tuple[int, int]]:
    """'sm_87' / 'NVIDIA Orin:sm_87' -> (8, 7); None when no arch is named."""
    digits = str(text).rsplit("sm_", 1)[-1] if "sm_" in str(text) else ""
    if not digits.isdigit() or len(digits) < 2:
        return None
    return int(digits[:-1]), int(digits[-1])


def target_arch(target, given) -> Optional[str]:
    """The CUDA arch the user built for, or None (not CUDA, or TVM's own default)."""
    if target.kind.name != "cuda":
        return None
    arch = str(target.attrs.get("arch", "") or "")
    named = isinstance(given, (dict, str)) and "arch" in str(given)
    return arch if arch and (named or arch != DEFAULT_ARCH) else None


def _requests(options, has_fp8: bool):
    wanted = [
        ("fp16", "use_fp16", options.use_fp16),
        ("int8", "use_int8", options.use_int8),
        ("fp8", "an FP8-quantized model", has_fp8),
    ]
    return [(kind, what) for kind, what, on in wanted if on]


def check_compile(options, arch: Optional[str], has_fp8: bool) -> None:
    """ValueError naming arch and precision when the target GPU lacks it."""
    sm = parse_sm(arch) if arch else None
    if sm is None:
        return
    for kind, what in _requests(options, has_fp8):
        need = MIN_SM[kind]
        if sm < need:
            raise ValueError(
                f"{what}: {kind.upper()} needs a GPU of compute capability >= {need[0]}.{need[1]}; "
                f"the target arch {arch} is {sm[0]}.{sm[1]}"
            )


def fit_to_gpu(options, gpu: str):
    """At run time: FP16/INT8 the GPU lacks are turned off with a warning (FP32 engines)."""
    sm = parse_sm(gpu)
    if sm is None:  # no GPU known (plans built ahead of time): nothing to check against
        return options
    changes = {}
    for kind, field in (("fp16", "use_fp16"), ("int8", "use_int8")):
        need = MIN_SM[kind]
        if getattr(options, field) and sm < need:
            message = (
                f"tvm_trt: {kind.upper()} needs a GPU of compute capability >= {need[0]}.{need[1]}; "
                f"{gpu} is {sm[0]}.{sm[1]}: building FP32 engines"
            )
            warnings.warn(message, stacklevel=3)
            log.warning(message)
            changes[field] = False
    return options.replace(**changes) if changes else options


def has_fp8(functions) -> bool:
    """Any FP8 tensor in the offloaded functions (an FP8 Q/DQ model)."""
    from . import graph, ir

    for func in functions:
        for call in graph.op_calls(func):
            types = [t for a in call.args for t in ir.tensor_types(a)] + ir.tensor_types(call)
            if any(str(t.dtype).startswith("float8") for t in types):
                return True
    return False
