"""Build TensorRT plans from specs, and execute deserialised engines on CUDA memory."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import threading
from typing import Dict, List, Optional, Sequence, Tuple

import tvm_ffi

from ..core import precision_gate, progress, tensorrt
from ..core.options import DEFAULTS, CompileOptions
from ..core.tensorrt import gpu_name
from ..network import precision
from ..network.builder import build_network
from . import builder_knobs, contexts, stripped

Shape = Tuple[int, ...]


class EngineBuildError(RuntimeError):
    """TensorRT refused to build a subgraph; names the subgraph and carries TensorRT's message."""


@dataclasses.dataclass(frozen=True)
class BuildSettings:
    """What a plan is built with: CompileOptions fields (same names where they are the same
    thing) after environment overrides. Fields not at their default enter the cache key."""

    use_fp16: bool
    max_workspace_size: int
    int8: str = ""  # digest of the INT8 scales the network is quantized with ("" = float)
    builder_optimization_level: int = DEFAULTS.builder_optimization_level
    hardware_compatibility: str = DEFAULTS.hardware_compatibility
    version_compatible: bool = DEFAULTS.version_compatible
    sparse_weights: bool = DEFAULTS.sparse_weights
    max_aux_streams: Optional[int] = DEFAULTS.max_aux_streams
    compute_capabilities: Tuple[str, ...] = DEFAULTS.compute_capabilities
    dla_core: Optional[int] = DEFAULTS.dla_core
    dla_gpu_fallback: bool = DEFAULTS.dla_gpu_fallback
    strip_weights: bool = False  # a plan without its weights, refitted at load (embedded plans)

    @classmethod
    def from_options(cls, options: CompileOptions) -> "BuildSettings":
        options = precision_gate.fit_to_gpu(options.with_env(), gpu_name())  # env overrides, in one place
        knobs = {f.name: getattr(options, f.name) for f in dataclasses.fields(cls) if hasattr(options, f.name)}
        knobs.pop("strip_weights")  # decided per plan (aot.py): only embedded plans are stripped
        return cls(**knobs)

    @classmethod
    def from_env(cls, config: Dict) -> "BuildSettings":
        """From the config the model was partitioned with; environment variables override it."""
        return cls.from_options(CompileOptions.from_json(config))

    def key_fields(self) -> Dict:
        """The builder knobs not at their default (plans built before they existed keep their keys)."""
        base = BuildSettings(self.use_fp16, self.max_workspace_size)
        return {
            f.name: _jsonable(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.name not in ("use_fp16", "max_workspace_size", "int8")
            and getattr(self, f.name) != getattr(base, f.name)
        }


def _jsonable(value):
    return list(value) if isinstance(value, tuple) else value


def is_static(spec: Dict) -> bool:
    """No input dim is symbolic (dynamic dims are named in specs)."""
    return not any(isinstance(d, str) for inp in spec["inputs"] for d in inp["shape"])


def profile_for(spec: Dict, max_shapes: Sequence[Shape]) -> Optional[List[Tuple[Shape, Shape, Shape]]]:
    """(min, opt, max) per input when some dim is dynamic and only the max shapes are known:
    every dynamic dim spans [1, max] (profiles.py chooses ranges per symbolic var)."""
    if is_static(spec):
        return None
    ranges = []
    for inp, shape in zip(spec["inputs"], max_shapes):
        lo = tuple(min(1, s) if isinstance(d, str) else s for d, s in zip(inp["shape"], shape))
        ranges.append((lo, tuple(shape), tuple(shape)))
    return ranges


def cache_key(
    content_hash: str,
    max_shapes: Sequence[Shape],
    settings: BuildSettings,
    gpu: Optional[str] = None,
    ranges: Optional[Sequence] = None,
) -> str:
    """Content hash of everything a plan depends on (so many models can share one directory);
    ``ranges``: the optimization profile, (min, opt, max) shape per input."""
    fields = {
        "content": content_hash,
        "shapes": [list(s) for s in max_shapes],
        "fp16": settings.use_fp16,  # the key's own names: plans built before keep their keys
        "workspace": settings.max_workspace_size,
        "flavour": tensorrt.flavour(),
        "version": list(tensorrt.version() or ()),
        "gpu": gpu or gpu_name(),
    }
    if ranges is not None:
        fields["profile"] = [[list(s) for s in r] for r in ranges]
    if settings.int8:  # only INT8 plans carry the field: float keys stay as they were
        fields["int8"] = settings.int8
    knobs = settings.key_fields()
    if knobs:
        fields["builder"] = knobs
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:40]


def builder_config(builder, spec: Dict, max_shapes: Sequence[Shape], settings: BuildSettings, ranges=None):
    """The IBuilderConfig: workspace limit, FP16 flag (weakly typed TensorRT), optimization profile
    (``ranges``, else [1, max] on every dynamic dim)."""
    trt = tensorrt.trt()
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, settings.max_workspace_size)
    if settings.use_fp16 and not tensorrt.strongly_typed_only() and hasattr(trt.BuilderFlag, "FP16"):
        config.set_flag(trt.BuilderFlag.FP16)
    builder_knobs.apply(config, settings)
    profile = ranges if ranges is not None and not is_static(spec) else profile_for(spec, max_shapes)
    values = [i for i, t in enumerate(spec["inputs"]) if t.get("values")]
    if values:  # shape inputs: max_shapes ends with their values (runtime.subgraph), fixed exactly
        profile = [(tuple(s),) * 3 for s in max_shapes[: len(spec["inputs"])]]
    if profile:
        opt = builder.create_optimization_profile()
        for i, (lo, mid, hi) in enumerate(profile):
            opt.set_shape(f"input_{i}", lo, mid, hi)
        for i, v in zip(values, max_shapes[-1] if values else ()):
            opt.set_shape_input(f"input_{i}", v, v, v)
        config.add_optimization_profile(opt)
    return config


def build_plan(spec: Dict, weights, max_shapes: Sequence[Shape], settings: BuildSettings, ranges=None) -> bytes:
    trt = tensorrt.trt()
    if settings.use_fp16 and spec.get("precision") != "float16":
        spec, weights = precision.to_fp16(spec, weights)
    with progress.build_progress(spec["symbol"]) as bar:
        builder = trt.Builder(tensorrt.get_logger())
        with _tensorrt_errors() as messages:
            try:
                network, _ctx = build_network(spec, weights, builder)
                if settings.strip_weights:
                    stripped.name_weights(network, _ctx)
            except Exception as err:  # a layer TensorRT refused: its own words say why
                if not messages:
                    raise
                raise EngineBuildError(
                    f"TensorRT refused the network of subgraph {spec['symbol']}: {err} ({'; '.join(messages)})"
                ) from err
        config = builder_config(builder, spec, max_shapes, settings, ranges)
        timing_cache = contexts.attach_timing_cache(config)
        monitor = progress.attach(bar, config)  # noqa: F841  (held until the build ends)
        with _tensorrt_errors() as messages:
            plan = builder.build_serialized_network(network, config)
        if plan is not None and timing_cache:
            contexts.save_timing_cache(config)
        if plan is None:
            detail = "; ".join(messages) or "see the tvm_trt.tensorrt log"
            raise EngineBuildError(f"TensorRT could not build subgraph {spec['symbol']}: {detail}")
    return stripped.StrippedPlan(plan) if settings.strip_weights else bytes(plan)


class _ErrorList(logging.Handler):
    """Errors logged by this thread only: builds in other threads log to the same logger."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.messages: List[str] = []
        self.thread = threading.get_ident()

    def emit(self, record):
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


@contextlib.contextmanager
def _tensorrt_errors():
    """The errors TensorRT logs meanwhile, so a failed build can carry them."""
    handler = _ErrorList()
    tensorrt_logger = logging.getLogger("tvm_trt.tensorrt")
    tensorrt_logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        tensorrt_logger.removeHandler(handler)


class Engine:
    """A deserialised engine with one execution context per thread."""

    def __init__(self, plan: bytes, symbol: str, refit_source=None, options: Optional[CompileOptions] = None):
        """``refit_source``: () -> (spec, weights) of the network, for a StrippedPlan; ``options``:
        the run-time ones (cuda_graphs, share_activation_memory), environment applied."""
        trt = tensorrt.trt()
        self.symbol = symbol
        options = options or DEFAULTS
        self.cuda_graphs, self.share_memory = options.cuda_graphs, options.share_activation_memory
        self.runtime = trt.Runtime(tensorrt.get_logger())
        with _tensorrt_errors() as messages:
            self.engine = self.runtime.deserialize_cuda_engine(plan)
        if self.engine is None:
            detail = "; ".join(messages) or "no supported CUDA GPU for this TensorRT library"
            raise RuntimeError(
                f"TensorRT could not deserialise the engine of subgraph {symbol} on this machine ({detail}). "
                "To check the conversion without a TensorRT GPU, set TVM_TENSORRT_EXECUTOR=reference."
            )
        self._local = threading.local()

    def context(self):
        ctx = getattr(self._local, "ctx", None)
        if ctx is None:
            ctx, self._local.runtime_cache = contexts.create_context(self.engine, self.cuda_graphs, self.share_memory)
            self._local.ctx = ctx
        return ctx

    def _check_outputs(self, ctx, inputs, outputs) -> None:
        """Once per input signature and thread: the engine's output shapes must be the buffers TVM
        allocated (a mismatch would write past them)."""
        checked = getattr(self._local, "checked", None)
        if checked is None:
            checked = self._local.checked = set()
        signature = tuple(r.shape for r in inputs)
        if signature in checked:
            return
        for i, ref in enumerate(outputs):
            shape = tuple(ctx.get_tensor_shape(f"output_{i}"))
            if shape != tuple(ref.shape):
                raise RuntimeError(
                    f"subgraph {self.symbol}: TensorRT's output {i} has shape {list(shape)}, "
                    f"TVM allocated {list(ref.shape)}"
                )
        checked.add(signature)

    def execute(self, inputs, outputs, stream: Optional[int] = None) -> None:
        """Enqueues the engine on ``stream``; by default TVM's current stream of the tensors'
        device (the one TVM's own kernels launch on), so the VM's ops order with ours."""
        ctx = self.context()
        for i, ref in enumerate(inputs):
            # False: a shape outside the engine's profile (TensorRT logs the reason)
            if not ctx.set_input_shape(f"input_{i}", ref.shape):
                raise RuntimeError(f"TensorRT rejected shape {list(ref.shape)} for input {i} of subgraph {self.symbol}")
            ctx.set_tensor_address(f"input_{i}", ref.ptr)
        self._check_outputs(ctx, inputs, outputs)
        for i, ref in enumerate(outputs):
            ctx.set_tensor_address(f"output_{i}", ref.ptr)
        if stream is None:
            stream = tvm_ffi.get_raw_stream(_device(inputs, outputs))
        if self.share_memory:
            contexts.SHARED.bind(ctx, self.engine, _device(inputs, outputs))
        if not ctx.execute_async_v3(stream):
            raise RuntimeError(f"TensorRT failed to execute subgraph {self.symbol}")
        if getattr(self._local, "runtime_cache", None) is not None:  # the kernels its first run JIT-compiled
            contexts.save_runtime_cache(self._local.runtime_cache)
            self._local.runtime_cache = None


def _device(inputs, outputs):
    """The GPU the call runs on: its first device tensor (shape inputs are host copies)."""
    first = next(r for r in (*inputs, *outputs) if not r.on_host)
    return tvm_ffi.Device(first.device_type, first.device_id)
