"""What surrounds a plan build and an execution context: TensorRT's timing cache, TensorRT-RTX's
runtime cache of JIT-compiled kernels, CUDA graphs and activation memory shared by subgraphs.

Both caches live in ``TVM_TENSORRT_CACHE_DIR`` beside the plans, written like them (checksummed,
atomic rename), so processes share them and a damaged file is reported and started afresh.
"""

from __future__ import annotations

import logging
import threading
from typing import Optional

from ..core import tensorrt as backend
from . import cache

logger = logging.getLogger("tvm_trt")


def _file(kind: str, gpu: str = "") -> str:
    version = ".".join(map(str, backend.version() or ()))
    suffix = f"-{gpu.replace(':', '_').replace(' ', '_')}" if gpu else ""
    return f"{kind}-{backend.flavour()}-{version}{suffix}.cache"


# --- timing cache (plan builds) --------------------------------------------------------------
def attach_timing_cache(config) -> bool:
    """Gives the builder the timing cache of the cache directory (empty when none): tactic timings
    measured by earlier builds are reused. False without a cache directory or the API, and on
    TensorRT-RTX (its timing cache operations are no-ops since 1.2: it keeps a runtime cache)."""
    if not cache.cache_dir() or backend.flavour() != "tensorrt" or not hasattr(config, "create_timing_cache"):
        return False
    data = cache.load_file(_file("timing"), "timing cache") or b""
    timing = config.create_timing_cache(data)
    if timing is None and data:  # written by another TensorRT build: start afresh
        timing = config.create_timing_cache(b"")
    return timing is not None and bool(config.set_timing_cache(timing, False))


def save_timing_cache(config) -> bool:
    timing = config.get_timing_cache() if hasattr(config, "get_timing_cache") else None
    if timing is None:
        return False
    return cache.store_file(_file("timing"), bytes(timing.serialize()))


# --- execution contexts ------------------------------------------------------------------------
class SharedActivations:
    """One device buffer per thread for the activation memory of every context it runs (the VM runs
    subgraphs one after the other on one stream), grown to the largest engine's need. Per thread:
    VMs in other threads run concurrently and must not share scratch memory."""

    def __init__(self):
        self.local = threading.local()

    def bind(self, ctx, engine, device) -> None:
        import tvm

        need = max(int(getattr(engine, "device_memory_size_v2", None) or getattr(engine, "device_memory_size", 0)), 1)
        if need > getattr(self.local, "size", 0):
            grown = need - getattr(self.local, "size", 0)
            self.local.buffer = tvm.runtime.empty((need,), "uint8", device)
            self.local.size = need
            _stat("shared_activation_bytes", grown)
        ctx.set_device_memory(self.local.buffer.data_ptr(), need)


SHARED = SharedActivations()


def _stat(name: str, amount) -> None:
    from .stats import bump

    bump(name, amount)


def create_context(engine, cuda_graphs: bool, share_memory: bool):
    """(execution context, runtime cache or None) with the run-time options: TensorRT-RTX's runtime
    config (runtime cache, CUDA graph strategy, user-managed memory), or NVIDIA TensorRT's
    allocation strategy. (TensorRT's Python objects take no attributes: the cache travels beside.)"""
    trt = backend.trt()
    if hasattr(engine, "create_runtime_config"):  # TensorRT-RTX
        config = engine.create_runtime_config()
        if cuda_graphs:
            config.cuda_graph_strategy = trt.CudaGraphStrategy.WHOLE_GRAPH_CAPTURE
            _stat("cuda_graph_contexts", 1)
        if share_memory:
            config.set_execution_context_allocation_strategy(trt.ExecutionContextAllocationStrategy.USER_MANAGED)
        runtime_cache = _runtime_cache(config)  # saved after the first execution (JIT happens then)
        return engine.create_execution_context(config), runtime_cache
    if cuda_graphs:
        raise RuntimeError(
            "TVM_TENSORRT_CUDA_GRAPHS / cuda_graphs: capture is implemented with TensorRT-RTX's "
            "cuda_graph_strategy; this NVIDIA TensorRT runs without CUDA graphs only"
        )
    if share_memory:
        return engine.create_execution_context(trt.ExecutionContextAllocationStrategy.USER_MANAGED), None
    return engine.create_execution_context(), None


def _runtime_cache(config) -> Optional[object]:
    if not cache.cache_dir() or not hasattr(config, "create_runtime_cache"):
        return None
    runtime_cache = config.create_runtime_cache()
    data = cache.load_file(_file("runtime", backend.gpu_name()), "runtime cache")
    if data and not runtime_cache.deserialize(data):
        logger.warning(
            "tvm_trt: the runtime cache in %s does not fit this TensorRT-RTX; starting afresh", cache.cache_dir()
        )
        runtime_cache.reset()
    config.set_runtime_cache(runtime_cache)
    return runtime_cache


def save_runtime_cache(runtime_cache) -> None:
    """After a context's first execution: its JIT-compiled kernels for the next process."""
    cache.store_file(_file("runtime", backend.gpu_name()), bytes(runtime_cache.serialize()))
