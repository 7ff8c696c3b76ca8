"""Run-time INT8 calibration of float subgraphs (``TVM_TENSORRT_USE_INT8``, ``TENSORRT_NUM_CALI_INT8``).

TensorRT 11 and TensorRT-RTX have no implicit INT8 flag nor calibrators: quantization is
explicit. So the first N calls of a subgraph run a float network whose extra outputs are the
activation inputs of every conv / matmul (``int8_spec.calibration_spec``), and their
absolute maxima are recorded. Then the scales are fixed, saved in the engine cache (a later
process skips calibration) and the subgraph is rebuilt with Q/DQ (``int8_spec.int8_spec``);
every later call runs that INT8 engine.

Scales come, in this order, from the partition config (``int8_scales``, from
``tvm_trt.calibrate``), the cache directory, or calibration. Subgraphs that already carry Q/DQ
(QDQ models) and subgraphs without a conv / matmul are left as they are.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import threading
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..core import tensorrt, env, int8_spec
from ..network.builder import build_network
from . import cache, dlpack
from ..core.options import CompileOptions
from .stats import bump
from .engine import BuildSettings, Engine, build_plan

logger = logging.getLogger("tvm_trt")

# For tvm_trt.calibrate(): {calibration run id: {graph key: scales}} (config "int8_calibration_run").
COLLECTED: Dict[str, Dict[str, int8_spec.Scales]] = {}


def _options(config: Dict) -> CompileOptions:
    return CompileOptions.from_json(config).with_env()  # variables override the config's options


def int8_enabled(config: Dict) -> bool:
    return _options(config).use_int8


def calibration_calls(config: Dict, symbol: str) -> int:
    value = _options(config).int8_calibration_calls
    count = value if isinstance(value, int) and not isinstance(value, bool) else 0
    if count <= 0:
        raise ValueError(
            f"subgraph {symbol}: INT8 is on (TVM_TENSORRT_USE_INT8 / use_int8) but no scales are known and "
            "TENSORRT_NUM_CALI_INT8 is not a positive number of calibration calls "
            f"(got {value!r}); set it, or pass int8_scales from tvm_trt.calibrate() to partition_for_tensorrt"
        )
    return count


def int8_ahead_of_time(spec: Dict, weights, settings: BuildSettings):
    """(spec, weights, settings) of the plan embedded at compile time: the INT8 network when the
    config carries this subgraph's scales (from tvm_trt.calibrate), else the inputs unchanged."""
    if not int8_enabled(spec["config"]) or int8_spec.is_quantized(spec):
        return spec, weights, settings
    scales = (spec["config"].get("int8_scales") or {}).get(int8_spec.graph_key(spec, weights))
    if not scales:
        return spec, weights, settings
    spec, weights = int8_spec.int8_spec(spec, weights, scales)
    return spec, weights, dataclasses.replace(settings, int8=int8_spec.scales_digest(scales))


def calibration_method(config: Dict) -> Optional[float]:
    """None for max calibration (the default), else the percentile P of ``percentile:P``."""
    return env.calibration_method(_options(config).int8_calibration, "int8_calibration")


def _peak(value: np.ndarray, percentile: Optional[float]) -> float:
    """What a call contributes to an activation's range: |x| max, or its percentile."""
    magnitude = np.abs(np.asarray(value, dtype=np.float32))
    if magnitude.size == 0:
        return 0.0
    return float(magnitude.max() if percentile is None else np.percentile(magnitude, percentile))


class Calibration:
    """INT8 state of one subgraph: off, calibrating, or calibrated (scales known).

    An activation's range is the max over the calibration calls of |x|'s max (``max``) or of
    |x|'s P-th percentile (``percentile:P``, which ignores rare outliers)."""

    def __init__(self, subgraph):
        self.subgraph = subgraph
        spec = subgraph.spec
        self.quantized = int8_spec.is_quantized(spec)  # a QDQ model: INT8 as it is
        self.enabled = int8_enabled(spec["config"]) and not self.quantized and int8_spec.has_calibration_targets(spec)
        self.graph_key = int8_spec.graph_key(spec, subgraph.weights) if self.enabled else ""
        self.scales: Optional[int8_spec.Scales] = None
        self.calls = 0
        self.needed = 0
        self.maxima: Dict[Tuple[int, int], float] = {}
        self._lock = threading.Lock()
        self._runner = None  # what executes the calibration network
        self._order: List[Tuple[int, int, int]] = []  # (node, argument, extra output)
        self._extra_outputs: List[Dict] = []  # their types
        self._runner_shapes = None
        self.percentile: Optional[float] = None
        if self.enabled:
            self.percentile = calibration_method(spec["config"])
            self.scales = (spec["config"].get("int8_scales") or {}).get(self.graph_key) or self._cached()
            if self.scales is None:
                self.needed = calibration_calls(spec["config"], subgraph.symbol)

    @property
    def active(self) -> bool:
        """The next call calibrates."""
        return self.enabled and self.scales is None

    def settings(self, base: BuildSettings) -> BuildSettings:
        """Build settings of the engines after calibration: INT8 plans have their own cache keys."""
        if not self.enabled or self.scales is None:
            return base
        return dataclasses.replace(base, int8=int8_spec.scales_digest(self.scales))

    def network_spec(self, spec, weights):
        return int8_spec.int8_spec(spec, weights, self.scales)

    # --- the scales in the cache directory --------------------------------------------------
    def _cache_key(self) -> str:
        fields = ["int8-scales", self.subgraph.content_hash, tensorrt.flavour() or "", self.percentile]
        return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:40]

    def _cached(self) -> Optional[int8_spec.Scales]:
        data = cache.load(self._cache_key())
        return json.loads(data) if data is not None else None

    # --- calibration calls -------------------------------------------------------------------
    def observe(self, inputs: List[dlpack.TensorRef], outputs: List[dlpack.TensorRef], reference: bool) -> None:
        """One float call: writes the subgraph's outputs and records the activations' maxima."""

        with self._lock:
            if self.scales is not None:  # another thread finished calibrating meanwhile
                return self.subgraph.run_refs(inputs, outputs)
            extras = self._run_reference(inputs, outputs) if reference else self._run_engine(inputs, outputs)
            peaks = [_peak(value, self.percentile) for value in extras]
            for index, pos, k in self._order:
                self.maxima[(index, pos)] = max(self.maxima.get((index, pos), 0.0), peaks[k])
            self.calls += 1
            bump("calibration_calls")
            bump("executions")
            if self.calls >= self.needed:
                self._finish()

    def _finish(self) -> None:
        scales = int8_spec.scales_from_maxima(self.maxima)
        cache.store(self._cache_key(), json.dumps(scales, sort_keys=True).encode())
        run = self.subgraph.spec["config"].get("int8_calibration_run")
        if run:
            COLLECTED.setdefault(run, {})[self.graph_key] = scales
        self._runner = None  # frees the calibration network / engine
        logger.info(
            "tvm_trt: subgraph %s calibrated over %d calls (%d activations); building its INT8 engine",
            self.subgraph.symbol,
            self.calls,
            len(self.maxima),
        )
        self.scales = scales

    def _calibration_spec(self):
        spec, self._order = int8_spec.calibration_spec(self.subgraph.spec)
        self._extra_outputs = spec["outputs"][len(self.subgraph.spec["outputs"]) :]
        return spec

    def _run_reference(self, inputs, outputs) -> List[np.ndarray]:
        from ..reference import run_network

        if not all(r.on_host for r in inputs + outputs):
            raise RuntimeError(
                f"subgraph {self.subgraph.symbol}: the reference executor calibrates on the host; run the VM on tvm.cpu()"
            )
        if self._runner is None:
            builder = tensorrt.trt().Builder(tensorrt.get_logger())
            self._runner = (builder,) + build_network(self._calibration_spec(), self.subgraph.weights, builder)
        feeds = {f"input_{i}": dlpack.as_numpy(r) for i, r in enumerate(inputs)}
        results = run_network(self._runner[1], feeds)
        for i, ref in enumerate(outputs):
            dlpack.as_numpy(ref)[...] = np.asarray(results[f"output_{i}"]).astype(ref.dtype, copy=False)
        extra = len(results) - len(outputs)
        return [results[f"output_{len(outputs) + k}"] for k in range(extra)]

    def _run_engine(self, inputs, outputs) -> List[np.ndarray]:
        """The calibration engine writes the subgraph's outputs into TVM's buffers and the
        activations into buffers of ours on the same device, copied to the host."""
        import tvm

        shapes = tuple(r.shape for r in inputs)
        if self._runner is None or self._runner_shapes != shapes:  # a new batch size: a new engine
            spec = self._calibration_spec()
            self._runner_shapes = shapes
            settings = BuildSettings.from_env(self.subgraph.spec["config"])
            self._runner = Engine(build_plan(spec, self.subgraph.weights, shapes, settings), spec["symbol"])
            bump("engines_built")
        first = inputs[0]
        device = tvm.device(first.device_type, first.device_id)
        batch = first.shape[0] if first.shape else 1  # the only dim that may be dynamic
        extras = [
            tvm.runtime.empty([batch if isinstance(d, str) else d for d in out["shape"]], out["dtype"], device)
            for out in self._extra_outputs
        ]
        refs = [
            dlpack.TensorRef(t.data_ptr(), first.device_type, first.device_id, tuple(t.shape), str(t.dtype))
            for t in extras
        ]
        self._runner.execute(inputs, list(outputs) + refs)
        return [t.numpy() for t in extras]
