"""Value checks of CompileOptions fields: each returns the normalised value or raises ``Invalid``
with what is allowed (options.py prefixes the option's name and the value given)."""

from __future__ import annotations

from typing import Callable, Optional

HARDWARE_COMPATIBILITY = ("none", "ampere_plus", "same_compute_capability")


class Invalid(ValueError):
    """The text after ``option NAME=VALUE:`` in the error."""


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def boolean(value) -> bool:
    if not isinstance(value, bool):  # "no" is truthy: it must not turn a switch on
        raise Invalid("expected true or false (a JSON boolean)")
    return value


def string(value) -> str:
    if not isinstance(value, str):
        raise Invalid("expected a string")
    return value


def mapping(value) -> dict:
    if not isinstance(value, dict):
        raise Invalid("expected a JSON object")
    return value


def optional(inner: Callable) -> Callable:
    def check(value):
        return None if value is None else inner(value)

    return check


def int_range(low: int, high: Optional[int]) -> Callable:
    def check(value) -> int:
        if not _is_int(value) or value < low or (high is not None and value > high):
            top = "2**63-1" if high == (1 << 63) - 1 else high
            bound = f"{low}..{top}" if high is not None else f">= {low}"
            raise Invalid(f"expected an integer {bound}")
        return value

    return check


def choice(allowed) -> Callable:
    def check(value) -> str:
        if not isinstance(value, str) or value.lower() not in allowed:
            raise Invalid(f"allowed: {', '.join(allowed)}")
        return value.lower()

    return check


def version(value):
    from .registry import as_version

    if value is None:
        return None
    try:
        return as_version(value)
    except (TypeError, ValueError) as err:
        raise Invalid(str(err)) from None


def op_names(value) -> tuple:
    """Relax op names TVM knows (a typo would silently exclude nothing)."""
    import tvm

    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
        raise Invalid("expected a list of Relax op names, e.g. ['relax.nn.softmax']")
    names = []
    for name in value:
        full = name if isinstance(name, str) and name.startswith("relax.") else f"relax.{name}"
        try:
            tvm.ir.Op.get(full)
        except Exception:
            raise Invalid(f"TVM has no op named {name!r} (Relax op names look like 'relax.nn.softmax')") from None
        names.append(full)
    return tuple(sorted(set(names)))


def fp32_op_names(value) -> tuple:
    """Relax op names (checked as ``op_names`` does) or layer names ``<subgraph>/<binding>`` as
    ``tvm_trt.debug`` prints them."""
    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
        raise Invalid("expected a list of Relax op names or tvm_trt.debug layer names, e.g. ['relax.matmul']")
    if not all(isinstance(name, str) for name in value):
        raise Invalid("expected strings: Relax op names or layer names such as 'tensorrt_0/lv3'")
    layers = [name for name in value if "/" in name]
    return tuple(sorted(set(layers))) + op_names([name for name in value if "/" not in name])


def compute_capabilities(value) -> tuple:
    """'8.6', '12.0', 'sm_86' or 86 -> '8.6' (TensorRT-RTX's ComputeCapability names)."""
    if isinstance(value, (str, int)) or not isinstance(value, (list, tuple)):
        raise Invalid("expected a list such as ['8.6', '12.0']")
    out = []
    for item in value:
        text = str(item).lower().removeprefix("sm_")
        if "." not in text and text.isdigit() and len(text) >= 2:
            text = f"{text[:-1]}.{text[-1]}"
        major, _, minor = text.partition(".")
        if not (major.isdigit() and minor.isdigit()):
            raise Invalid(f"{item!r} is not a compute capability such as '8.6' or 'sm_86'")
        out.append(f"{int(major)}.{int(minor)}")
    return tuple(sorted(set(out), key=lambda c: tuple(map(int, c.split(".")))))


def check_ranges(dynamic_shapes) -> dict:
    """``{"n": (1, 8, 32)}`` -> ``{"n": [1, 8, 32]}``; ValueError naming a bad entry."""
    ranges = {}
    for name, value in (dynamic_shapes or {}).items():
        try:
            lo, opt, hi = (int(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(f"dynamic_shapes[{name!r}] must be (min, opt, max), got {value!r}") from None
        if not 0 <= lo <= opt <= hi:
            raise ValueError(f"dynamic_shapes[{name!r}] = {value!r}: need 0 <= min <= opt <= max")
        ranges[str(name)] = [lo, opt, hi]
    return ranges


def shape_ranges(value) -> dict:
    try:
        return check_ranges(value)
    except (TypeError, ValueError) as err:
        raise Invalid(str(err)) from None


def calibration(value) -> str:
    from . import env

    if not isinstance(value, str):
        raise Invalid("expected 'max' or 'percentile:P'")
    try:
        env.calibration_method(value, "int8_calibration")
    except ValueError as err:
        raise Invalid(str(err).split(": ", 1)[-1]) from None
    return value.strip()
