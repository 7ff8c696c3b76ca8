"""CompileOptions: the one definition of every tvm-trt option (as Torch-TensorRT's ``CompilationSettings``).

Each field is an option of ``partition_for_tensorrt``, ``tvm_trt.build``, a config file / preset
(``tvm-trt --config``) and of the config the offloaded functions carry into the library, where
the runtime reads it back. The field's metadata holds its check (the allowed values), its key in
the config JSON when that differs from its name, the environment variable that overrides it at
run time, and whether it is set by the pipeline rather than by the user. Follow a field by name:
``CompileOptions.<name>`` -> ``config["<name>"]`` -> ``runtime.engine.BuildSettings`` -> the builder.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import sys
import warnings
from typing import Any, Dict, Mapping, Optional, Tuple

from . import env, registry, tensorrt
from . import option_checks as check

DEFAULT_VERSION = (10, 0, 0)  # when no TensorRT is installed: a TensorRT 10 era target
NEWEST_TENSORRT_MAJOR = 11  # a target beyond it is most likely a typo (99.0 for 9.0)
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
IMPLICIT_BATCH_BELOW = (7, 0, 0)  # TensorRT < 7 has only implicit-batch networks


def target_version(version) -> Tuple[int, int, int]:
    if version is not None:
        return registry.as_version(version)
    return tensorrt.capability_version() or DEFAULT_VERSION


def warn_unreleased(version) -> None:
    """A target TensorRT newer than any there is: a warning at the caller's line (partitioning goes on, every
    version gate passes as for the newest), not an error, so a newer TensorRT than this table knows still works."""
    if version is None or version[0] <= NEWEST_TENSORRT_MAJOR:
        return
    warnings.warn(
        f"target TensorRT version {registry.version_str(version)}: no TensorRT {version[0]} exists yet "
        f"(newest known: {NEWEST_TENSORRT_MAJOR}.x); ops are gated as for the newest",
        stacklevel=_caller_level(),
    )


def _caller_level() -> int:
    """The stacklevel of the first frame outside this package, for a warning raised by our caller
    (the depth from the public function to the check differs by entry point)."""
    frame, level = sys._getframe(1), 1  # level 1: the function calling warnings.warn
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    return level


def resolve_implicit_batch(use_implicit_batch: Optional[bool], version) -> bool:
    """None (the default) -> the batch-axis rule only where the target has nothing but implicit
    batch (TensorRT < 7); an explicit True/False is kept."""
    if use_implicit_batch is None:
        return tuple(version) < IMPLICIT_BATCH_BELOW
    return bool(use_implicit_batch)


class OptionError(TypeError, ValueError):
    """A bad option name or value (a TypeError for the old callers, a ValueError for the new)."""


def _field(
    default, checker, doc: str, *, env_var: Optional[str] = None, json_key: Optional[str] = None, internal: bool = False
):
    meta = {"check": checker, "doc": doc, "env": env_var, "json_key": json_key, "internal": internal}
    if isinstance(default, (dict, list)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class CompileOptions:
    # --- partitioning --------------------------------------------------------------------------
    version: Optional[Tuple[int, int, int]] = _field(
        None,
        check.version,
        "target TensorRT, e.g. (8, 6) or '8.6.1'; default: the installed one",
        json_key="tensorrt_version",
    )
    use_implicit_batch: Optional[bool] = _field(
        None, check.optional(check.boolean), "keep the batch axis free (the rule of TensorRT < 7); None: by version"
    )
    remove_no_mac_subgraphs: bool = _field(False, check.boolean, "subgraphs without conv/matmul stay in TVM")
    min_subgraph_size: int = _field(1, check.int_range(1, None), "subgraphs of fewer ops stay in TVM")
    exclude_ops: Tuple[str, ...] = _field((), check.op_names, "Relax ops that stay in TVM, e.g. ['relax.nn.softmax']")
    dynamic_shapes: Optional[Dict[str, Tuple[int, int, int]]] = _field(
        None, check.optional(check.shape_ranges), "{symbolic var: (min, opt, max)}: fixed optimization profiles"
    )
    # --- precision -----------------------------------------------------------------------------
    use_fp16: bool = _field(False, check.boolean, "FP16 kernels", env_var=env.USE_FP16)
    use_int8: bool = _field(False, check.boolean, "INT8 with calibration or int8_scales", env_var=env.USE_INT8)
    int8_calibration_calls: Optional[int] = _field(
        None, check.optional(check.int_range(1, None)), "calls that calibrate INT8", env_var=env.NUM_CALI_INT8
    )
    int8_calibration: str = _field("max", check.calibration, "'max' or 'percentile:P'", env_var=env.INT8_CALIBRATION)
    int8_scales: Optional[Dict[str, Any]] = _field(
        None, check.optional(check.mapping), "scales from tvm_trt.calibrate(): no calibration calls"
    )
    int8_calibration_run: Optional[str] = _field(
        None, check.optional(check.string), "set by tvm_trt.calibrate() to collect its scales"
    )
    truncate_double: bool = _field(
        False, check.boolean, "float64 subgraphs go to TensorRT computed in float32 (cast at their boundary)"
    )
    fp32_ops: Tuple[str, ...] = _field(
        (), check.fp32_op_names, "ops kept in float32 inside FP16 engines: Relax op names or tvm_trt.debug layer names"
    )
    # --- builder -------------------------------------------------------------------------------
    max_workspace_size: int = _field(
        1 << 30, check.int_range(1, (1 << 63) - 1), "builder workspace limit (bytes)", env_var=env.MAX_WORKSPACE_SIZE
    )
    builder_optimization_level: int = _field(3, check.int_range(0, 5), "TensorRT's builder optimization level")
    hardware_compatibility: str = _field(
        "none",
        check.choice(check.HARDWARE_COMPATIBILITY),
        "plans portable across GPUs: none/ampere_plus/same_compute_capability",
    )
    version_compatible: bool = _field(False, check.boolean, "plans that run on later TensorRT versions")
    sparse_weights: bool = _field(False, check.boolean, "allow 2:4 structured-sparse kernels")
    max_aux_streams: Optional[int] = _field(
        None, check.optional(check.int_range(0, 64)), "auxiliary streams per engine; None: TensorRT's choice"
    )
    compute_capabilities: Tuple[str, ...] = _field(
        (), check.compute_capabilities, "TensorRT-RTX: GPUs an ahead-of-time plan targets, e.g. ['8.6', '12.0']"
    )
    dla_core: Optional[int] = _field(None, check.optional(check.int_range(0, 15)), "Jetson DLA core; None: GPU")
    dla_gpu_fallback: bool = _field(True, check.boolean, "layers DLA cannot run go to the GPU")
    # --- library and run time ------------------------------------------------------------------
    build_at_compile_time: bool = _field(False, check.boolean, "embed plans in the library")
    strip_weights: Optional[bool] = _field(
        None, check.optional(check.boolean), "embed weight-stripped plans, refitted at load; None: where refit exists"
    )
    fallback: bool = _field(True, check.boolean, "compile each subgraph with TVM too, run where TensorRT cannot")
    cuda_graphs: bool = _field(False, check.boolean, "capture engine launches in CUDA graphs", env_var=env.CUDA_GRAPHS)
    share_activation_memory: bool = _field(
        False, check.boolean, "one device buffer for the activations of all subgraphs", env_var=env.SHARE_MEMORY
    )
    # --- set by the pipeline ---------------------------------------------------------------------
    host_target: Optional[str] = _field(None, check.optional(check.string), "set by tvm_trt.build", internal=True)
    tir_var_upper_bound: Optional[Dict[str, int]] = _field(
        None, check.optional(check.mapping), "main's bounds of symbolic vars", internal=True
    )

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is not None or f.default is not None:
                object.__setattr__(self, f.name, _checked(f, value))

    # --- construction --------------------------------------------------------------------------
    @classmethod
    def from_kwargs(
        cls, what: str = "partition_for_tensorrt", allow_internal: bool = False, **options: Any
    ) -> "CompileOptions":
        """Options by name (JSON keys too); unknown names are refused with a did-you-mean."""
        known = {
            **{f.metadata["json_key"]: f.name for f in _fields() if f.metadata["json_key"]},
            **{f.name: f.name for f in _fields()},
        }
        internal = {f.name for f in _fields() if f.metadata["internal"]}
        values = {}
        for key, value in options.items():
            name = known.get(key)
            if name is None or (name in internal and not allow_internal):
                raise OptionError(f"{what}: unknown option {key!r}{_did_you_mean(key, allow_internal)}")
            values[name] = value
        try:
            return cls(**values)
        except OptionError as err:
            raise OptionError(f"{what}: {err}") from None

    @classmethod
    def from_json(cls, data, what: str = "config") -> "CompileOptions":
        """From a config dict or its JSON text (what the library carries, a config file)."""
        if isinstance(data, (str, bytes)):
            data = json.loads(data)
        if not isinstance(data, Mapping):
            raise OptionError(f"{what} must be a JSON object of options, got {type(data).__name__}")
        return cls.from_kwargs(what, allow_internal=True, **data)

    def to_json(self) -> Dict[str, Any]:
        """The config dict (JSON-able; tuples as lists), every field present."""
        return {f.metadata["json_key"] or f.name: _jsonable(getattr(self, f.name)) for f in _fields()}

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True)

    def replace(self, **changes: Any) -> "CompileOptions":
        return dataclasses.replace(self, **changes)

    # --- the one place where environment variables override options --------------------------
    def with_env(self) -> "CompileOptions":
        """A copy where each set ``TVM_TENSORRT_*`` variable replaces the field it names."""
        changes = {}
        for f in _fields():
            var = f.metadata["env"]
            if var is not None and env.raw(var) is not None:
                changes[f.name] = ENV_READERS[var]()
        return dataclasses.replace(self, **changes) if changes else self

    # --- what partitioning needs ----------------------------------------------------------------
    def resolved(self) -> "CompileOptions":
        """``version`` and ``use_implicit_batch`` made concrete for the target TensorRT."""
        version = target_version(self.version)
        return dataclasses.replace(
            self, version=version, use_implicit_batch=resolve_implicit_batch(self.use_implicit_batch, version)
        )

    def partition_options(self, producers=None):
        """The PartitionOptions the predicates see (resolved version and batch rule)."""
        from .registry import PartitionOptions

        opts = self.resolved()
        return PartitionOptions(
            version=opts.version,
            use_implicit_batch=opts.use_implicit_batch,
            exclude_ops=frozenset(opts.exclude_ops),
            truncate_double=opts.truncate_double,
            producers=producers,
        )


# How each overriding variable is parsed (env.py checks the value and names the variable).
ENV_READERS = {
    env.USE_FP16: lambda: env.flag(env.USE_FP16, False),
    env.USE_INT8: lambda: env.flag(env.USE_INT8, False),
    env.NUM_CALI_INT8: env.calibration_calls,
    env.INT8_CALIBRATION: lambda: (
        env.calibration_method(env.raw(env.INT8_CALIBRATION), env.INT8_CALIBRATION),
        env.raw(env.INT8_CALIBRATION).strip(),
    )[1],
    env.MAX_WORKSPACE_SIZE: lambda: env.positive_int(env.MAX_WORKSPACE_SIZE, 1),
    env.CUDA_GRAPHS: lambda: env.flag(env.CUDA_GRAPHS, False),
    env.SHARE_MEMORY: lambda: env.flag(env.SHARE_MEMORY, False),
}


def _fields():
    return dataclasses.fields(CompileOptions)


def user_option_names():
    """What partition_for_tensorrt and config files accept (the JSON spelling of version included)."""
    return sorted(f.name for f in _fields() if not f.metadata["internal"])


def _did_you_mean(key: str, allow_internal: bool) -> str:
    names = [f.name for f in _fields() if allow_internal or not f.metadata["internal"]]
    close = difflib.get_close_matches(str(key), names, n=1)
    return f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(names))}"


def _checked(f: dataclasses.Field, value):
    try:
        return f.metadata["check"](value)
    except check.Invalid as err:
        raise OptionError(f"option {f.name}={value!r}: {err}") from None


def _jsonable(value):
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def option_table():
    """(name, default, allowed/doc) per user option: the README's table is checked against it."""
    return [
        (
            f.name,
            f.default if f.default is not dataclasses.MISSING else f.default_factory(),
            f.metadata["doc"],
            f.metadata["env"],
        )
        for f in _fields()
        if not f.metadata["internal"]
    ]


DEFAULTS = CompileOptions()
