"""Converter registry: one registration per op carries its predicate, TensorRT gate and converter.

The annotation table used by partitioning is *derived* from this registry, so an op can never
be offloaded without a converter, nor converted without a predicate having accepted it.

    @register_op("relax.nn.relu")
    def relu(ctx, node):
        return ctx.add_activation(node.args[0], "RELU")

A predicate is ``(call: relax.Call, opts: PartitionOptions) -> Optional[str]``: ``None`` when
TensorRT can take the call, else a short human reason that the partition report shows.

An entry is the op's whole policy: ``entry.policy`` lists every check a call goes through (the
generic ones of ``call_checks``, then the op's version gate, dtypes and predicate), ``mac`` and
``keep_float32`` say how subgraphs holding it are kept and built.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Callable, Dict, Iterable, Optional, Sequence, Tuple

from . import call_checks

Version = Tuple[int, int, int]
Predicate = Callable[..., Optional[str]]

FLOAT_TYPES = ("float32", "float16")
INT_TYPES = ("int32", "int64")
ANY_TYPE = FLOAT_TYPES + INT_TYPES + ("bool",)  # ops that only move or compare data
# Tensor dtypes that came later than the ops: INT64 tensors arrived with TensorRT 10 (before it,
# shape arithmetic and indices were INT32 only), BOOL tensors with the comparisons of TensorRT 7.
DTYPE_MIN_VERSION: Dict[str, Tuple[int, int, int]] = {
    "int64": (10, 0, 0),
    "bool": (7, 0, 0),
    "bfloat16": (9, 0, 0),
    "float8_e4m3fn": (8, 6, 0),
}

EXCLUDED_REASON = "excluded by the user (exclude_ops)"

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class PartitionOptions:
    """What predicates may depend on: the TensorRT API level targeted and the batch rule."""

    version: Version = (10, 0, 0)
    use_implicit_batch: bool = False
    exclude_ops: frozenset = frozenset()  # Relax op names the user keeps in TVM (option exclude_ops)
    truncate_double: bool = False  # float64 tensors are taken, computed in float32 (option truncate_double)
    # var -> bound value in the function being partitioned (TVM's var2val), when known: lets a
    # predicate see which op made an operand (e.g. sum over the axis a stack created)
    producers: Optional[Any] = dataclasses.field(default=None, compare=False, hash=False, repr=False)
    # {name of a binding of main: why it stays in TVM}: shape work the VM needs before a TensorRT
    # call (partition.value_shapes)
    kept: Optional[Any] = dataclasses.field(default=None, compare=False, hash=False, repr=False)


@dataclasses.dataclass(frozen=True)
class OpEntry:
    op: str  # Relax op name, e.g. "relax.nn.conv2d"
    converter: Callable
    check: Optional[Predicate] = None
    min_version: Version = (0, 0, 0)
    mac: bool = False  # does multiply-accumulate work (conv, matmul, deconv)
    dtypes: Tuple[str, ...] = FLOAT_TYPES  # accepted dtypes of tensor inputs and outputs
    tuple_output: bool = False  # the Relax op returns a tuple (e.g. batch_norm, split)
    arities: Tuple[int, ...] = ()  # argument counts to match; default: the op's declared inputs
    # computed in float32 when the subgraph is built in FP16 (exponentials, variances and long
    # sums lose too much in half precision): precision.to_fp16 casts around it
    keep_float32: bool = False

    @property
    def policy(self) -> Tuple[Predicate, ...]:
        """Every check a call of this op goes through, in order; the first reason decides."""
        return self._generic_checks() + self._own_checks()

    def _generic_checks(self) -> Tuple[Predicate, ...]:
        return (
            call_checks.output_shapes_from_inputs,
            min_version_gate(self.min_version),
            call_checks.tensor_arguments,
            call_checks.each_tensor(call_checks.not_float64, call_checks.dtype_in(self.dtypes), call_checks.known_dims),
        )

    def _own_checks(self) -> Tuple[Predicate, ...]:
        gated = [d for d in self.dtypes if d in DTYPE_MIN_VERSION]
        return tuple([dtype_gate(gated)] if gated else []) + tuple([self.check] if self.check is not None else [])

    def reason(self, call, opts) -> Optional[str]:
        """Why ``call`` must stay in TVM, or None when TensorRT can take it."""
        for check in self._generic_checks():
            reason = check(call, opts)
            if reason:
                return reason
        for check in self._own_checks():
            reason = _asked(check, call, opts)
            if reason:
                return reason
        return None


_REGISTRY: Dict[str, OpEntry] = {}


def as_version(v) -> Version:
    """(major, minor, patch) from ``(8, 6)``, ``(8, 6, 1)``, ``"8.6"`` or ``"8.6.1"``.

    A bare ``8`` is refused: TensorRT 8.0 and 8.6 differ in what they can take, so the minor
    version must be said."""
    what = f"TensorRT version {v!r}"
    if isinstance(v, str):
        try:
            v = tuple(int(p) for p in v.strip().split("."))
        except ValueError:
            raise ValueError(f"{what}: expected e.g. '8.6' or '8.6.1'") from None
    elif isinstance(v, int) and not isinstance(v, bool):
        raise TypeError(f"{what} is ambiguous: give major and minor, e.g. ({v}, 0) or '{v}.0'")
    try:
        parts = tuple(v)
    except TypeError:
        raise TypeError(f"{what}: expected a tuple such as (8, 6, 1) or a string such as '8.6.1'") from None
    if not 2 <= len(parts) <= 3 or not all(isinstance(p, int) and not isinstance(p, bool) and p >= 0 for p in parts):
        raise TypeError(f"{what}: expected 2 or 3 non-negative ints such as (8, 6) or (8, 6, 1)")
    return tuple(list(parts) + [0] * (3 - len(parts)))


def _known_op(op: str) -> None:
    """TVM must know the op: a typo would otherwise break every later partition in the process."""
    import tvm

    if not isinstance(op, str) or not op.startswith("relax."):
        raise ValueError(f"register_op: {op!r} is not a Relax op name (e.g. 'relax.nn.relu')")
    try:
        tvm.ir.Op.get(op)
    except Exception:
        raise ValueError(f"register_op: TVM has no op named {op!r}") from None


def register_op(
    op: str,
    *,
    check: Optional[Predicate] = None,
    min_version: Sequence[int] = (0, 0, 0),
    mac: bool = False,
    dtypes: Iterable[str] = FLOAT_TYPES,
    tuple_output: bool = False,
    arities: Iterable[int] = (),
    keep_float32: bool = False,
    override: bool = False,
):
    """Decorator registering ``converter(ctx, node) -> ITensor | list[ITensor]`` for a Relax op.

    Registering an op twice raises unless ``override=True`` (users replacing a built-in)."""

    _known_op(op)
    min_version = as_version(min_version)
    dtypes = tuple(dtypes)
    if check is not None and not callable(check):
        raise TypeError(
            f"register_op({op!r}): check must be a predicate (call, opts) -> None | str, got {type(check).__name__}"
        )

    def wrap(converter):
        if not callable(converter):
            raise TypeError(
                f"register_op({op!r}): the converter must be callable (ctx, node) -> ITensor(s), "
                f"got {type(converter).__name__}"
            )
        if op in _REGISTRY and not override:
            raise ValueError(f"a TensorRT converter for {op} is already registered; pass override=True")
        _REGISTRY[op] = OpEntry(
            op=op,
            converter=converter,
            check=check,
            min_version=min_version,
            mac=mac,
            dtypes=dtypes,
            tuple_output=tuple_output,
            arities=tuple(arities),
            keep_float32=bool(keep_float32),
        )
        return converter

    return wrap


_NO_CONVERTER: Dict[str, str] = {}  # op -> why it has no converter (TensorRT cannot express it exactly)


def no_converter(op: str, reason: str) -> None:
    """Records why ``op`` deliberately has no converter; partitioning gives this reason."""
    _known_op(op)
    _NO_CONVERTER[op] = reason


def no_converter_reason(op: str) -> Optional[str]:
    return _NO_CONVERTER.get(op)


def unregister_op(op: str) -> None:
    _REGISTRY.pop(op, None)


def get(op: str) -> Optional[OpEntry]:
    return _REGISTRY.get(op)


def reason(call, opts) -> Optional[str]:
    """Why the op call ``call`` must stay in TVM under ``opts``, or None when TensorRT takes it."""
    name = call.op.name
    if name in opts.exclude_ops:
        return EXCLUDED_REASON
    entry = _REGISTRY.get(name)
    if entry is None:
        return no_converter_reason(name) or f"no TensorRT converter registered for {name}"
    return entry.reason(call, opts)


def _asked(predicate: Predicate, call, opts) -> Optional[str]:
    """The op's own predicate, whose bugs keep the call in TVM with a reason naming the op
    instead of stopping partitioning (or showing a stray value as the reason)."""
    name = call.op.name
    try:
        reason = predicate(call, opts)
    except Exception as err:
        log.warning("the predicate of %s raised %s: %s", name, type(err).__name__, err)
        return f"the predicate of {name} raised {type(err).__name__}: {err}"
    if reason is not None and not isinstance(reason, str):
        message = (
            f"the predicate of {name} ({getattr(predicate, '__qualname__', predicate)}) returned "
            f"{reason!r} ({type(reason).__name__}); a predicate returns None (supported) or a reason string"
        )
        log.warning("%s", message)
        return message
    return reason or None


def entries() -> Dict[str, OpEntry]:
    return dict(_REGISTRY)


def supported_ops() -> Dict[str, Version]:
    """``{relax_op_name: minimum TensorRT version}`` for every registered op."""
    return {name: e.min_version for name, e in sorted(_REGISTRY.items())}


def version_str(v: Sequence[int]) -> str:
    return ".".join(str(p) for p in v)


# ---- predicate combinators ---------------------------------------------------------------


def all_of(*preds: Predicate) -> Predicate:
    """The first reason any of ``preds`` gives, else None."""

    def check(call, opts):
        for p in preds:
            reason = p(call, opts)
            if reason is not None and reason != "":  # anything else is for _asked to refuse
                return reason
        return None

    return check


def min_version_gate(version: Version) -> Predicate:
    """The op's ``min_version`` (its registration's data) against the targeted TensorRT."""

    def target_at_least(call, opts):
        if tuple(opts.version) < version:
            return f"{call.op.name} needs TensorRT >= {version_str(version)} (target {version_str(opts.version)})"
        return None

    target_at_least.__qualname__ = f"min_version_gate({version_str(version)})"
    return target_at_least


def requires_trt(version: Sequence[int], what: str = "") -> Predicate:
    """A gate inside a predicate, for attribute-dependent requirements."""
    v = as_version(version)

    def check(call, opts):
        if tuple(opts.version) < v:
            return f"{what or call.op.name} needs TensorRT >= {version_str(v)}"
        return None

    return check


def dtype_gate(dtypes: Iterable[str]) -> Predicate:
    """Tensors of ``dtypes`` among the call's inputs and outputs need the TensorRT version that
    introduced the type (DTYPE_MIN_VERSION). Constant inputs are exempt: they become weights,
    and int64 weights are narrowed to int32 where TensorRT has no INT64 (network.constant)."""
    dtypes = tuple(dtypes)

    def check(call, opts):
        from . import ir

        args = [a for a in call.args if not ir.is_constant(a)]
        types = [t for a in args for t in ir.tensor_types(a)] + ir.tensor_types(call)
        for ty in types:
            need = DTYPE_MIN_VERSION.get(str(ty.dtype)) if str(ty.dtype) in dtypes else None
            if need and tuple(opts.version) < need:
                return f"{ty.dtype} tensors need TensorRT >= {version_str(need)}"
        return None

    return check


def attr_in(name: str, allowed: Iterable) -> Predicate:
    allowed = tuple(allowed)

    def check(call, opts):
        value = getattr(call.attrs, name)
        value = str(value) if not isinstance(value, (int, float)) else value
        if value not in allowed:
            return f"{name}={value} is not supported (supported: {', '.join(map(str, allowed))})"
        return None

    return check
