"""Ahead-of-time INT8 calibration: ``scales = tvm_trt.calibrate(mod, params, batches)``.

The float model is partitioned, compiled for the CPU and run on ``batches`` with the reference
executor, which records the absolute max of every conv / matmul input activation of each
offloaded subgraph (the run-time calibration, done on the build machine). The scales then go to
``partition_for_tensorrt(mod, params, int8_scales=scales)``: its subgraphs start in INT8 with
no calibration calls, and with ``build_at_compile_time=True`` the INT8 plans are embedded.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from typing import Any, Dict, Iterable, Optional, Sequence

import numpy as np
import tvm
from tvm import relax

from .core import int8_spec
from .codegen.build import build
from .partition import partition_for_tensorrt
from .runtime import int8_calibration

_ENV = {"TVM_TENSORRT_EXECUTOR": "reference", "TVM_TENSORRT_USE_INT8": "1", "TVM_TENSORRT_CACHE_DIR": None}


@contextlib.contextmanager
def _environment(calls: int):
    saved = {k: os.environ.get(k) for k in list(_ENV) + ["TENSORRT_NUM_CALI_INT8"]}
    try:
        for k, v in dict(_ENV, TENSORRT_NUM_CALI_INT8=str(calls)).items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        yield
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def calibrate(
    mod: tvm.IRModule,
    params: Optional[Dict[str, Any]] = None,
    batches: Iterable[Sequence[np.ndarray]] = (),
    **partition_options: Any,
) -> Dict[str, int8_spec.Scales]:
    """Scales for ``partition_for_tensorrt(..., int8_scales=scales)``: ``{subgraph key: {node: {arg: absmax}}}``.

    ``batches``: the inputs of ``mod["main"]`` per call (a list of arrays each); pass the same
    ``partition_options`` as the later partitioning (subgraph keys depend on the partition)."""
    batches = [[np.asarray(a) for a in (b if isinstance(b, (list, tuple)) else [b])] for b in batches]
    if not batches:
        raise ValueError("tvm_trt.calibrate needs at least one batch of inputs")
    # A fresh run id: the runtime treats these subgraphs as new, never as already calibrated.
    run = uuid.uuid4().hex
    pmod, _ = partition_for_tensorrt(
        mod, params, use_int8=True, int8_calibration_calls=len(batches), int8_calibration_run=run, **partition_options
    )
    ex = build(pmod, "llvm")
    with _environment(len(batches)):
        vm = relax.VirtualMachine(ex, tvm.cpu())
        for batch in batches:
            vm["main"](*[tvm.runtime.tensor(a) for a in batch])
    return int8_calibration.COLLECTED.pop(run, {})
