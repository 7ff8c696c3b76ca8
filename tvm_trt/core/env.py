"""Every ``TVM_TENSORRT_*`` environment variable is read here, and checked where it is read.

A bad value raises ``EnvError`` (a ValueError) naming the variable, the value and what is
allowed: a typo must not silently turn a switch off. Unset or empty means "use the default".
"""

from __future__ import annotations

import os
from typing import Callable, Dict, List, Optional, Sequence

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


class EnvError(ValueError):
    """An environment variable holds a value we do not accept."""


def raw(name: str) -> Optional[str]:
    """The stripped value, or None when unset or empty."""
    value = os.environ.get(name, "").strip()
    return value or None


def flag(name: str, default: bool) -> bool:
    """A boolean switch: 1/true/yes/on or 0/false/no/off (any case)."""
    value = raw(name)
    if value is None:
        return default
    low = value.lower()
    if low in TRUE:
        return True
    if low in FALSE:
        return False
    raise EnvError(f"{name}={value!r} is not a boolean: use one of {', '.join(TRUE + FALSE)}")


def choice(name: str, allowed: Sequence[str], default: str) -> str:
    """One of ``allowed`` (case-insensitive)."""
    value = raw(name)
    if value is None:
        return default
    if value.lower() not in allowed:
        raise EnvError(f"{name}={value!r} is not allowed: use one of {', '.join(allowed)}")
    return value.lower()


def positive_int(name: str, default: int) -> int:
    """A byte count or similar: a positive integer, written plainly or as 1<<30."""
    value = raw(name)
    if value is None:
        return default
    text = value.replace("_", "")
    try:
        if "<<" in text:
            base, shift = text.split("<<")
            number = int(base) << int(shift)
        else:
            number = int(text)
    except ValueError:
        number = None
    if number is None or not 0 < number < 1 << 63:  # TensorRT takes a 64-bit size
        raise EnvError(f"{name}={value!r} is not a positive integer below 2**63 (bytes, e.g. 1073741824 or 1<<30)")
    return number


def path(name: str) -> Optional[str]:
    """A directory or file path; None when unset."""
    return raw(name)


# The variables, in one place (the README lists the same).
USE_FP16 = "TVM_TENSORRT_USE_FP16"
MULTI_ENGINE = "TVM_TENSORRT_MULTI_ENGINE"
MAX_WORKSPACE_SIZE = "TVM_TENSORRT_MAX_WORKSPACE_SIZE"
EXECUTOR = "TVM_TENSORRT_EXECUTOR"
LOG_LEVEL = "TVM_TENSORRT_LOG_LEVEL"
CACHE_DIR = "TVM_TENSORRT_CACHE_DIR"
USE_INT8 = "TVM_TENSORRT_USE_INT8"
NUM_CALI_INT8 = "TENSORRT_NUM_CALI_INT8"  # upstream TVM's name
INT8_CALIBRATION = "TVM_TENSORRT_INT8_CALIBRATION"
FALLBACK = "TVM_TENSORRT_FALLBACK"
CUDA_GRAPHS = "TVM_TENSORRT_CUDA_GRAPHS"
SHARE_MEMORY = "TVM_TENSORRT_SHARE_ACTIVATION_MEMORY"
EXECUTORS = ("tensorrt", "reference")
LOG_LEVELS = ("error", "warning", "info", "verbose", "debug")


def calibration_calls() -> Optional[int]:
    """TENSORRT_NUM_CALI_INT8: a positive count, or None when unset."""
    value = raw(NUM_CALI_INT8)
    if value is None:
        return None
    if not value.isdigit() or int(value) <= 0:
        raise EnvError(f"{NUM_CALI_INT8}={value!r} is not a positive number of calibration calls")
    return int(value)


def calibration_method(value: str, where: str) -> Optional[float]:
    """INT8 calibration: None for ``max``, else P of ``percentile:P`` (0 < P <= 100)."""
    value = value.strip()
    if value == "max":
        return None
    name, _, number = value.partition(":")
    try:
        percentile = float(number)
    except ValueError:
        percentile = -1.0
    if name != "percentile" or not 0 < percentile <= 100:
        raise EnvError(f"{where}={value!r}: INT8 calibration must be 'max' or 'percentile:P' with 0 < P <= 100")
    return percentile


def executor() -> str:
    return choice(EXECUTOR, EXECUTORS, "tensorrt")


# Every variable with the check that parses it: the CLI runs them all before any work, and
# names a TVM_TENSORRT_* variable that is not here (a typo would otherwise be ignored).
CHECKS: Dict[str, Callable[[], object]] = {
    USE_FP16: lambda: flag(USE_FP16, False),
    MULTI_ENGINE: lambda: flag(MULTI_ENGINE, False),
    FALLBACK: lambda: flag(FALLBACK, True),
    MAX_WORKSPACE_SIZE: lambda: positive_int(MAX_WORKSPACE_SIZE, 1),
    EXECUTOR: executor,
    LOG_LEVEL: lambda: choice(LOG_LEVEL, LOG_LEVELS, ""),
    CACHE_DIR: lambda: path(CACHE_DIR),
    USE_INT8: lambda: flag(USE_INT8, False),
    NUM_CALI_INT8: calibration_calls,
    INT8_CALIBRATION: lambda: calibration_method(raw(INT8_CALIBRATION) or "max", INT8_CALIBRATION),
    CUDA_GRAPHS: lambda: flag(CUDA_GRAPHS, False),
    SHARE_MEMORY: lambda: flag(SHARE_MEMORY, False),
}


def check_all() -> List[str]:
    """Parse every known variable now (raises EnvError); returns the unknown TVM_TENSORRT_* names set."""
    for check in CHECKS.values():
        check()
    return sorted(n for n in os.environ if n.startswith("TVM_TENSORRT_") and n not in CHECKS)
