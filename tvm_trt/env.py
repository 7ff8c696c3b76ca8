"""Every ``TVM_TENSORRT_*`` environment variable is read here, and checked where it is read.

A bad value raises ``EnvError`` (a ValueError) naming the variable, the value and what is
allowed: a typo must not silently turn a switch off. Unset or empty means "use the default".
"""
from __future__ import annotations

import os
from typing import Optional, Sequence

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
    if number is None or number <= 0:
        raise EnvError(f"{name}={value!r} is not a positive integer (bytes, e.g. 1073741824 or 1<<30)")
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
EXECUTORS = ("tensorrt", "reference")
LOG_LEVELS = ("error", "warning", "info", "verbose", "debug")


def executor() -> str:
    return choice(EXECUTOR, EXECUTORS, "tensorrt")


def check_all() -> None:
    """Parse every variable now (the CLI does, so a typo stops it before any work)."""
    flag(USE_FP16, False)
    flag(MULTI_ENGINE, False)
    positive_int(MAX_WORKSPACE_SIZE, 1)
    executor()
    choice(LOG_LEVEL, LOG_LEVELS, "")
