"""One offloaded subgraph at run time: engines built lazily, cached, and executed.

An engine slot holds a plan and what executes it (a TensorRT engine, or the TensorRT network
the reference executor evaluates). Static subgraphs have one slot. A subgraph with symbolic dims
follows ``TVM_TENSORRT_MULTI_ENGINE``: 0 (default) keeps one slot whose optimization profile
covers every shape met (profiles.py), rebuilt (the old one freed) when a shape falls outside;
1 keeps one slot per distinct input shape.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..core import tensorrt, env, progress
from ..network import precision
from ..core import spec_format
from . import weights as run_weights
from ..network.builder import build_network
from ..core.spec_format import RAN
from . import aot, cache, dlpack, fallback, observers
from .int8_calibration import Calibration
from .engine import BuildSettings, Engine, build_plan, cache_key, gpu_name, is_static
from .profiles import Profile, Profiles
from ..core.options import CompileOptions
from .stats import STATS, bump, count_call  # noqa: F401  (STATS: tests read the counters here)

logger = logging.getLogger("tvm_trt")

Shapes = Tuple[Tuple[int, ...], ...]


executor_mode = env.executor


def multi_engine() -> bool:
    return env.flag(env.MULTI_ENGINE, False)


class _Slot:
    """One engine: its plan, build settings and (lazily) what executes it."""

    def __init__(
        self, shapes: Shapes, plan: bytes, settings: BuildSettings, profile: Optional[Profile] = None, ranges=None
    ):
        self.shapes = shapes  # max input shapes the plan accepts
        self.plan: Optional[bytes] = plan  # dropped once an engine / network holds the model
        self.settings = settings
        self.profile = profile  # symbolic var -> (min, opt, max); None for static subgraphs
        self.low = tuple(r[0] for r in ranges) if ranges else shapes
        self.engine: Optional[Engine] = None
        self.network = None  # (builder, network, ctx) for the reference executor
        self.lock = threading.Lock()

    def covers(self, shapes: Shapes) -> bool:
        return all(
            lo <= s <= hi
            for shape, low, top in zip(shapes, self.low, self.shapes)
            for s, lo, hi in zip(shape, low, top)
        )


class Subgraph:
    def __init__(self, key: str, blob: str, weights: Optional[List[np.ndarray]] = None):
        self.key = key
        spec_blob, self.embedded = aot.split(blob, key)
        self.spec, self.content_hash = spec_format.unpack(spec_blob)
        # views of the loaded library's bytes (no copy), unless given
        self.weights = weights if weights is not None else run_weights.arrays(self.spec)
        self.symbol = self.spec["symbol"]
        progress.configure_logging()  # TVM_TENSORRT_LOG_LEVEL applies from the first engine event on
        self.num_inputs = len(self.spec["inputs"])
        # what the stub passes per tensor (inputs, then outputs): its data pointer; the dims only
        # of tensors with a symbolic dim (rank, else 0)
        tensors = self.spec["inputs"] + self.spec["outputs"]
        self._dtypes = [t["dtype"] for t in tensors]
        self._static_shapes = [
            None if any(isinstance(d, str) for d in t["shape"]) else tuple(t["shape"]) for t in tensors
        ]
        self._ndims = [len(t["shape"]) for t in tensors]
        self._input_shapes = tuple(self._static_shapes[: self.num_inputs])
        self.fallback_reason: Optional[str] = None  # set once TVM's code runs this subgraph
        # inputs whose values shape a result (a dynamic slice's bounds): TensorRT shape inputs
        self._value_inputs = [i for i, t in enumerate(self.spec["inputs"]) if t.get("values")]
        self.dynamic = not is_static(self.spec) or any(s is None for s in self._static_shapes)
        self.profiles = Profiles(self.spec) if self.dynamic else None
        self._lock = threading.Lock()
        self.slots: Dict[Shapes, _Slot] = {}
        self._fp16 = None  # (spec, weights) rewritten to float16, made on first need
        self._accepted = set()  # input signatures already checked: the hot path skips the walk
        self.calibration = Calibration(self)  # INT8: scales, and the first N float calls

    # --- checks ----------------------------------------------------------------------------
    def check_inputs(self, refs: List[dlpack.TensorRef]) -> None:
        signature = tuple((r.shape, r.dtype) for r in refs)
        if signature in self._accepted:
            return
        self._check_inputs(refs)
        self._accepted.add(signature)

    def _check_inputs(self, refs: List[dlpack.TensorRef]) -> None:
        if len(refs) != self.num_inputs:
            raise ValueError(f"subgraph {self.symbol}: got {len(refs)} inputs, expected {self.num_inputs}")
        for i, (ref, want) in enumerate(zip(refs, self.spec["inputs"])):
            shape = want["shape"]
            ok = len(ref.shape) == len(shape) and all(isinstance(d, str) or d == s for d, s in zip(shape, ref.shape))
            if not ok or ref.dtype != want["dtype"]:
                raise ValueError(
                    f"subgraph {self.symbol}: input {i} ({want['name']}) has shape {list(ref.shape)} "
                    f"{ref.dtype}, expected {shape} {want['dtype']}"
                )
        if self.dynamic:  # a dim outside a user-given range is the caller's error, under every executor
            self.profiles.bind([r.shape for r in refs])  # (so the TVM fallback never takes it for TensorRT's)

    # --- plans -----------------------------------------------------------------------------
    def network_spec(self, settings: BuildSettings):
        """(spec, weights) the network is built from: Q/DQ inserted for INT8, then the fp16
        rewrite when FP16 is on."""
        spec, weights = self.spec, self.weights
        if settings.int8:
            spec, weights = self.calibration.network_spec(spec, weights)
        if not settings.use_fp16:
            return spec, weights
        if self._fp16 is None or self._fp16[0] != settings.int8:
            self._fp16 = (settings.int8,) + precision.to_fp16(spec, weights)
        return self._fp16[1:]

    def plan_for(self, shapes: Shapes, settings: BuildSettings, ranges=None) -> bytes:
        """The plan for these max shapes (and profile): the library, the cache directory, else a build."""
        for gpu in dict.fromkeys((gpu_name(), "any")):
            key = cache_key(self.content_hash, shapes, settings, gpu, ranges)
            plan = self.embedded.get(key)
            if plan is not None:
                bump("engines_from_library")
                self._log_event("loaded from the library", shapes, settings, 0.0, key, ranges)
                return plan
        key = cache_key(self.content_hash, shapes, settings, ranges=ranges)
        start = time.perf_counter()
        plan = cache.load(key, self.symbol)
        if plan is not None:
            seconds = time.perf_counter() - start
            bump("engines_loaded_from_cache")
            bump("cache_load_seconds", seconds)
            self._log_event("loaded from cache", shapes, settings, seconds, key, ranges)
            return plan
        spec, weights = self.network_spec(settings)
        plan = build_plan(spec, weights, shapes, settings, ranges)  # raises without leaving a cache entry
        seconds = time.perf_counter() - start
        bump("engines_built")
        bump("build_seconds", seconds)
        self._log_event("built", shapes, settings, seconds, key, ranges)
        cache.store(key, plan)
        return plan

    def _log_event(
        self, event: str, shapes: Shapes, settings: BuildSettings, seconds: float, key: str, ranges=None
    ) -> None:
        """One info line per engine event; the cache key and where it lives at debug."""
        if ranges:
            where = "profile " + ", ".join(f"{list(lo)}..{list(hi)}" for lo, _, hi in ranges)
        elif self.dynamic:
            where = "profile " + ", ".join(f"[1..{s[0]}]x{list(s[1:])}" for s in shapes)
        else:
            where = "shapes " + ", ".join(str(list(s)) for s in shapes)
        logger.info(
            "subgraph %s: %s (%s, %s, %.2f s)",
            self.symbol,
            event,
            where,
            "fp16" if settings.use_fp16 else "fp32",
            seconds,
        )
        if logger.isEnabledFor(logging.DEBUG):
            directory = cache.cache_dir()
            logger.debug(
                "subgraph %s: cache key %s (%s)",
                self.symbol,
                key,
                cache.path_for(directory, key) if directory else "no TVM_TENSORRT_CACHE_DIR",
            )

    def _with_values(self, shapes: Shapes, inputs) -> Shapes:
        """Shape inputs' values are part of the engine's profile: the slot key ends with them."""
        if not self._value_inputs:
            return shapes
        return shapes + (tuple(self._values(inputs[i]) for i in self._value_inputs),)

    def _values(self, ref) -> Tuple[int, ...]:
        return tuple(int(v) for v in dlpack.to_host(ref).reshape(-1))  # a device tensor: copied (a few ints)

    def slot_for(self, shapes: Shapes) -> _Slot:
        slots = self.slots  # replaced, never mutated: readers need no lock
        slot = slots.get(shapes)
        if slot is not None:
            return slot
        if self._value_inputs:  # shapes ends with the shape inputs' values: an exact profile
            with self._lock:
                self.profiles.bind(shapes[:-1])  # a dim outside a user-given range is still an error
                settings = self.calibration.settings(BuildSettings.from_env(self.spec["config"]))
                ranges = [(s, s, s) for s in shapes[:-1]]
                slot = _Slot(shapes, self.plan_for(shapes, settings, ranges), settings, None, None)
                self.slots = {**self.slots, shapes: slot}
                return slot
        single = self.dynamic and not multi_engine()
        if single and slots:
            current = next(iter(slots.values()))
            if current.covers(shapes):
                return current
        with self._lock:
            slot = self.slots.get(shapes)  # another thread may have built it meanwhile
            if slot is not None:
                return slot
            if not self.dynamic:
                return self._add_slot(shapes, None, None)
            env = self.profiles.bind(shapes)  # raises for shapes outside a user-given range
            if not single:
                return self._add_slot(shapes, self.profiles.exact(env), None)
            current = next(iter(self.slots.values()), None)
            if current is not None and current.profile is not None and Profiles.covers(current.profile, env):
                return current
            profile = self.profiles.grown(env, current.profile if current is not None else None)
            return self._add_slot(shapes, profile, current)

    def _add_slot(self, shapes: Shapes, profile: Optional[Profile], replaces: Optional[_Slot]) -> _Slot:
        """Builds (or loads) a plan; with ``replaces``, the new slot is the only one held."""
        ranges = self.profiles.input_ranges(profile) if profile is not None else None
        top = tuple(r[2] for r in ranges) if ranges else shapes
        settings = self.calibration.settings(BuildSettings.from_env(self.spec["config"]))
        slot = _Slot(top, self.plan_for(top, settings, ranges), settings, profile, ranges)
        if settings.int8 or self.calibration.quantized:
            bump("int8_engines")
        if replaces is not None:
            bump("engines_freed")  # the old engine goes once no call uses it any more
            self.slots = {top: slot}
        else:
            self.slots = {**self.slots, top: slot}
        return slot

    def profiles_held(self) -> List[Dict]:
        """The profile of each engine held: {var: [min, opt, max]} (empty for static subgraphs)."""
        return [{v: list(r) for v, r in (s.profile or {}).items()} for s in self.slots.values()]

    @property
    def engines_held(self) -> int:
        return len(self.slots)

    # --- execution -------------------------------------------------------------------------
    def refs(self, device_type: int, device_id: int, pointers_and_dims) -> List[dlpack.TensorRef]:
        """The tensors a stub passed: data pointers, then the dims of dynamic ones (plain ints)."""
        if not self.dynamic:
            return [
                dlpack.TensorRef(ptr, device_type, device_id, shape, dtype)
                for ptr, shape, dtype in zip(pointers_and_dims, self._static_shapes, self._dtypes)
            ]
        dims = pointers_and_dims[len(self._dtypes) :]
        refs, at = [], 0
        for ptr, shape, ndim, dtype in zip(pointers_and_dims, self._static_shapes, self._ndims, self._dtypes):
            if shape is None:
                shape, at = tuple(dims[at : at + ndim]), at + ndim
            refs.append(dlpack.TensorRef(ptr, device_type, device_id, shape, dtype))
        return refs

    def call(self, device_type: int, device_id: int, pointers_and_dims) -> int:
        """One stub call -> RAN, or DECLINED when TVM's twin runs it from now on."""
        refs = self.refs(device_type, device_id, pointers_and_dims)
        inputs, outputs = refs[: self.num_inputs], refs[self.num_inputs :]
        if self.dynamic:  # static shapes and dtypes came from the spec itself
            self.check_inputs(inputs)
        if self.calibration.active and self.fallback_reason is None:  # INT8: the first N calls
            reference = executor_mode() == "reference"  # run in float and record activations
            try:
                self.calibration.observe(inputs, outputs, reference)
            except Exception as err:  # noqa: BLE001  (no TensorRT here: TVM's float code runs)
                if reference:
                    raise
                count_call()
                return fallback.take(self, err)
            count_call()
            return RAN
        return self.run_refs(inputs, outputs)

    def run_refs(self, inputs, outputs) -> int:
        shapes = tuple(r.shape for r in inputs) if self.dynamic else self._input_shapes
        if executor_mode() == "reference":
            self._run_reference(self._with_values(shapes, inputs), inputs, outputs)
        elif self.fallback_reason is not None:  # another thread's call fell back meanwhile
            count_call()
            return fallback.decline(self)
        else:
            try:
                self._run_tensorrt(self._with_values(shapes, inputs), inputs, outputs)
            except Exception as err:  # noqa: BLE001  (TensorRT's reason travels in the warning)
                count_call()
                return fallback.take(self, err)
        bump("executions", python_calls=1)
        return RAN

    def _run_tensorrt(self, shapes, inputs, outputs) -> None:
        tensorrt.trt()  # raises TensorRTNotAvailable, naming the extra to install
        if any(r.on_host for r in inputs + outputs):
            raise RuntimeError(
                f"subgraph {self.symbol} received host (CPU) tensors: TensorRT executes on a CUDA GPU. "
                "Compile for a CUDA target and run the VM on tvm.cuda(), or set "
                "TVM_TENSORRT_EXECUTOR=reference to evaluate the built TensorRT network in NumPy."
            )
        slot = self.slot_for(shapes)
        if slot.engine is None:
            with slot.lock:
                if slot.engine is None:
                    slot.engine = Engine(
                        slot.plan,
                        self.symbol,
                        lambda: self.network_spec(slot.settings),
                        CompileOptions.from_json(self.spec["config"]).with_env(),
                    )
                    slot.plan = None  # the engine holds its own copy; the file cache has the plan
        if self._value_inputs:  # TensorRT reads shape inputs from host memory: their values (the key's
            inputs = list(inputs)  # last entry), held here while the engine runs
            held = [
                np.array(v, inputs[i].dtype).reshape(inputs[i].shape) for i, v in zip(self._value_inputs, shapes[-1])
            ]
            for i, values in zip(self._value_inputs, held):
                inputs[i] = dlpack.host_ref(values)
        slot.engine.execute(inputs, outputs)  # one execution context per thread inside

    def _run_reference(self, shapes, inputs, outputs) -> None:
        from ..reference import run_network

        if not all(r.on_host for r in inputs + outputs):
            raise RuntimeError(
                f"subgraph {self.symbol}: the reference executor evaluates on the host; "
                "run the VM on tvm.cpu() (compile for an llvm target) to use TVM_TENSORRT_EXECUTOR=reference"
            )
        if not tensorrt.available():
            raise tensorrt.TensorRTNotAvailable(tensorrt.INSTALL_HINT)
        slot = self.slot_for(shapes)  # TensorRT itself validates the network and builds the plan
        feeds = {f"input_{i}": dlpack.as_numpy(r) for i, r in enumerate(inputs)}
        # The network the plan was built from (dynamic dims stay -1: the executor takes the
        # feeds' shapes). TensorRT network objects are not thread-safe: one evaluation at a time.
        with slot.lock:
            if slot.network is None:
                spec, weights = self.network_spec(slot.settings)
                builder = tensorrt.trt().Builder(tensorrt.get_logger())
                slot.network = (builder,) + build_network(spec, weights, builder)
                slot.plan = None  # only needed to validate the network with TensorRT
            results = run_network(slot.network[1], feeds)
            if observers.REFERENCE_OBSERVERS:
                observers.notify(self, self.network_spec(slot.settings)[0], slot.network[1], feeds)
        for i, ref in enumerate(outputs):
            out = dlpack.as_numpy(ref)
            value = np.asarray(results[f"output_{i}"])
            if value.shape != out.shape:
                raise RuntimeError(
                    f"subgraph {self.symbol}: output {i} has shape {list(value.shape)}, expected {list(out.shape)}"
                )
            out[...] = value.astype(out.dtype, copy=False)
        bump("reference_executions")
