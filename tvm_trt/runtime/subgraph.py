"""One offloaded subgraph at run time: engines built lazily, cached, and executed."""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Dict, List, Tuple

import numpy as np

from .. import backend, spec as spec_mod
from ..network import build_network
from . import cache, dlpack
from .engine import BuildSettings, Engine, build_plan, cache_key

logger = logging.getLogger("tvm_trt")

_stats_lock = threading.Lock()
STATS = {
    "engines_built": 0,
    "engines_loaded_from_cache": 0,
    "engines_held": 0,
    "executions": 0,
    "reference_executions": 0,
    "build_seconds": 0.0,
    "cache_load_seconds": 0.0,
}


def bump(name: str, amount=1) -> None:
    with _stats_lock:
        STATS[name] += amount


def executor_mode() -> str:
    mode = os.environ.get("TVM_TENSORRT_EXECUTOR", "tensorrt").strip().lower()
    if mode not in ("tensorrt", "reference"):
        raise ValueError(f"TVM_TENSORRT_EXECUTOR must be 'tensorrt' or 'reference', not {mode!r}")
    return mode


class Subgraph:
    def __init__(self, key: str, blob: str):
        self.key = key
        self.spec, self.weights, self.content_hash = spec_mod.unpack(blob)
        self.symbol = self.spec["symbol"]
        self.num_inputs = len(self.spec["inputs"])
        self._lock = threading.Lock()
        self.plans: Dict[Tuple, bytes] = {}  # max input shapes -> serialized plan
        self.engines: Dict[Tuple, Engine] = {}
        self._networks: Dict[Tuple, object] = {}

    # --- checks ----------------------------------------------------------------------------
    def check_inputs(self, refs: List[dlpack.TensorRef]) -> None:
        for i, (ref, want) in enumerate(zip(refs, self.spec["inputs"])):
            shape = want["shape"]
            ok = len(ref.shape) == len(shape) and all(
                isinstance(d, str) or d == s for d, s in zip(shape, ref.shape)
            )
            if not ok or ref.dtype != want["dtype"]:
                raise ValueError(
                    f"subgraph {self.symbol}: input {i} ({want['name']}) has shape {list(ref.shape)} "
                    f"{ref.dtype}, expected {shape} {want['dtype']}"
                )

    # --- plans -----------------------------------------------------------------------------
    def plan_for(self, shapes: Tuple) -> bytes:
        """The plan for these input shapes: memory, then the cache directory, else a build."""
        with self._lock:
            plan = self.plans.get(shapes)
            if plan is not None:
                return plan
            settings = BuildSettings.from_env(self.spec["config"])
            key = cache_key(self.content_hash, shapes, settings)
            start = time.perf_counter()
            plan = cache.load(key)
            if plan is not None:
                bump("engines_loaded_from_cache")
                bump("cache_load_seconds", time.perf_counter() - start)
            else:
                plan = build_plan(self.spec, self.weights, shapes, settings)
                bump("engines_built")
                bump("build_seconds", time.perf_counter() - start)
                cache.store(key, plan)
            self.plans[shapes] = plan
            return plan

    # --- execution -------------------------------------------------------------------------
    def run(self, handles) -> None:
        refs = [dlpack.read(h) for h in handles]
        inputs, outputs = refs[: self.num_inputs], refs[self.num_inputs :]
        self.check_inputs(inputs)
        shapes = tuple(r.shape for r in inputs)
        if executor_mode() == "reference":
            self._run_reference(shapes, inputs, outputs)
        else:
            self._run_tensorrt(shapes, inputs, outputs)
        bump("executions")

    def _run_tensorrt(self, shapes, inputs, outputs) -> None:
        if any(r.on_host for r in inputs + outputs):
            raise RuntimeError(
                f"subgraph {self.symbol} received host (CPU) tensors: TensorRT executes on a CUDA GPU. "
                "Compile for a CUDA target and run the VM on tvm.cuda(), or set "
                "TVM_TENSORRT_EXECUTOR=reference to evaluate the built TensorRT network in NumPy."
            )
        engine = self.engines.get(shapes)
        if engine is None:
            plan = self.plan_for(shapes)
            with self._lock:
                engine = self.engines.get(shapes) or Engine(plan, self.symbol)
                if shapes not in self.engines:
                    self.engines[shapes] = engine
                    bump("engines_held")
        engine.execute(inputs, outputs)

    def _run_reference(self, shapes, inputs, outputs) -> None:
        from ..reference import run_network

        if not all(r.on_host for r in inputs + outputs):
            raise RuntimeError(
                f"subgraph {self.symbol}: the reference executor evaluates on the host; "
                "run the VM on tvm.cpu() (compile for an llvm target) to use TVM_TENSORRT_EXECUTOR=reference"
            )
        if backend.available():
            self.plan_for(shapes)  # TensorRT itself validates the network and builds the plan
        network = self._networks.get(shapes)
        if network is None:
            builder = backend.trt().Builder(backend.get_logger())
            network = (builder,) + build_network(self.spec, self.weights, builder, input_shapes=shapes)
            self._networks[shapes] = network
        feeds = {f"input_{i}": dlpack.as_numpy(r) for i, r in enumerate(inputs)}
        results = run_network(network[1], feeds)
        for i, ref in enumerate(outputs):
            out = dlpack.as_numpy(ref)
            value = np.asarray(results[f"output_{i}"])
            if value.shape != out.shape:
                raise RuntimeError(
                    f"subgraph {self.symbol}: output {i} has shape {list(value.shape)}, expected {list(out.shape)}"
                )
            out[...] = value.astype(out.dtype, copy=False)
        bump("reference_executions")
