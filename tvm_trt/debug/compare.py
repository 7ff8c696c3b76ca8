"""``tvm_trt.debug.compare``: partition and build as a user would, evaluate every layer of each offloaded
TensorRT network with the reference executor, and compare it with the same Relax binding computed by TVM
in float32. Each subgraph's TVM twin takes the inputs that subgraph received, so a layer's error is the
one TensorRT adds inside its subgraph (plus what earlier subgraphs handed it)."""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence

import numpy as np
import tvm
from tvm import relax

from ..codegen.build import build
from ..core import ir
from ..network.precision import kept_in_float32
from ..partition import partition_for_tensorrt
from . import capture
from .report import DebugReport, measure, over

PRECISIONS = ("fp32", "fp16", "int8")


def random_inputs(mod: tvm.IRModule, params=None, seed: int = 0) -> List[np.ndarray]:
    """Random data for ``main``'s inputs (those not in ``params``), of their shapes and dtypes."""
    rng = np.random.default_rng(seed)
    bound = set(params or {})
    arrays = []
    for p in mod["main"].params:
        if p.name in bound:
            continue
        shape = ir.dims(p.ty)
        if shape is None or not all(isinstance(d, int) for d in shape):
            raise ValueError(f"tvm_trt.debug: input {p.name} has symbolic dims {p.ty.shape}; pass inputs=")
        dtype = str(p.ty.dtype)
        if dtype.startswith("float"):
            arrays.append(rng.standard_normal(shape).astype(dtype))
        elif dtype == "bool":
            arrays.append(rng.random(shape) > 0.5)
        else:
            arrays.append(rng.integers(0, 2, size=shape).astype(dtype))
    return arrays


def compare(
    mod: tvm.IRModule,
    params=None,
    inputs: Optional[Sequence[np.ndarray]] = None,
    precision: str = "fp16",
    tolerance: float = 1e-2,
    calibration_inputs: Optional[Sequence[Sequence[np.ndarray]]] = None,
    suggest: bool = True,
    max_tries: int = 8,
    **options,
) -> DebugReport:
    """Layer-by-layer comparison of the TensorRT networks of ``mod`` in ``precision`` with TVM float32.

    ``inputs``: arrays for ``main``'s inputs (default random: real inputs are better). ``precision="int8"``
    takes a Q/DQ model as it is, else calibrates at run time on ``calibration_inputs`` (a list of input
    lists; default ``inputs`` plus three random batches). ``options`` go to ``partition_for_tensorrt``
    (``fp32_ops`` among them). With ``suggest`` (FP16), the first divergent op is kept in float32, then the
    next one that diverges, until the outputs are within ``tolerance``, then pruned to the ops needed (at most
    ``max_tries`` builds)."""
    if precision not in PRECISIONS:
        raise ValueError(f"tvm_trt.debug.compare: precision must be one of {PRECISIONS}, got {precision!r}")
    random = inputs is None
    inputs = random_inputs(mod, params) if random else [np.asarray(a) for a in inputs]
    bound = relax.transform.BindParams("main", params)(mod) if params else mod
    expected = capture.run_vm(tvm.compile(bound, "llvm"), inputs)
    options = dict(options)
    batches = _batches(mod, params, inputs, precision, calibration_inputs, options)
    layers, outputs, skipped = _run(mod, params, batches, options)
    report = DebugReport(precision, tolerance, random, layers, _rel_err(outputs, expected), skipped=skipped)
    if suggest and precision == "fp16" and not report.outputs_within_tolerance:
        _suggest(report, mod, params, batches, options, expected, max_tries)
    return report


def _batches(mod, params, inputs, precision, calibration_inputs, options) -> List[List[np.ndarray]]:
    options["use_fp16"] = precision == "fp16"  # the precision asked for wins over a preset's
    if precision != "int8":
        options["use_int8"] = False
        return [inputs]
    if _has_quantize(mod):  # a Q/DQ model runs as it is
        return [inputs]
    if calibration_inputs is None:
        calibration_inputs = [inputs] + [random_inputs(mod, params, seed) for seed in (1, 2, 3)]
    options.setdefault("use_int8", True)
    options.setdefault("int8_calibration_calls", len(calibration_inputs))
    return [list(b) for b in calibration_inputs] + [inputs]


def _has_quantize(mod) -> bool:
    quantize = tvm.ir.Op.get("relax.quantize")
    return any(
        isinstance(b.value, relax.Call) and b.value.op == quantize
        for block in mod["main"].body.blocks
        for b in block.bindings
    )


def _run(mod, params, batches, options):
    pmod, config = partition_for_tensorrt(mod, params, **options)
    outputs, recording = capture.run_recorded(build(pmod, "llvm", config, fallback=False), batches)
    layers, skipped = [], []
    for symbol, (spec, network, feeds) in recording.calls.items():
        func = pmod[symbol]
        if any(isinstance(p.ty, relax.ShapeType) for p in func.params):
            skipped.append(f"{symbol}: takes shape-valued arguments, which its TVM twin cannot be fed")
            continue
        ordered = [feeds[f"input_{i}"] for i in range(len(feeds))]
        want = capture.tvm_binding_values(func, ordered)
        originals = iter(range(len(want)))
        seen: Dict[str, int] = {}
        for index, got, dtype in capture.layer_values(spec, network, feeds):
            node = spec["nodes"][index]
            reference = want[next(originals)]
            name = f"{symbol}/{node['var']}"
            seen[name] = seen.get(name, 0) + 1
            label = name if seen[name] == 1 else f"{name}#{seen[name]}"
            if got is None or np.shape(got) != np.shape(reference):
                skipped.append(f"{label} ({node['op']}): no TensorRT tensor of its shape")
                continue
            layers.append(measure(label, node["op"], got, reference, dtype))
    return layers, outputs, skipped


def _rel_err(outputs, expected) -> float:
    worst = 0.0
    for got, want in zip(outputs, expected):
        layer = measure("output", "", got, want, "")
        worst = max(worst, math.inf if layer.nonfinite else layer.max_rel_err)
    return worst


def _suggest(report, mod, params, batches, options, expected, max_tries) -> None:
    """Keep the first divergent op in float32, then add the next divergent op (execution order; a build
    may reveal new ones) until the outputs are within tolerance; then drop each op the others do not need
    (e.g. an attention mask's -inf that softmax absorbs), so the set is small. At most ``max_tries`` builds."""
    given = list(options.get("fp32_ops") or [])
    chosen: List[str] = []
    candidates = _divergent_ops(report.layers, report.tolerance)
    builds = 0

    def within(ops) -> bool:
        nonlocal builds
        builds += 1
        layers, outputs, _ = _run(mod, params, batches, {**options, "fp32_ops": given + list(ops)})
        err = _rel_err(outputs, expected)
        report.tried_fp32_ops.append({"fp32_ops": list(ops), "output_max_rel_err": err})
        for op in _divergent_ops(layers, report.tolerance):
            if op not in candidates:
                candidates.append(op)
        return err <= report.tolerance

    found = False
    while builds < max_tries:
        op = next((c for c in candidates if c not in chosen and c not in given), None)
        if op is None:
            break
        chosen.append(op)
        if within(chosen):
            found = True
            break
    if not found:
        return
    for op in list(chosen[:-1]):  # the last one added was needed to get within tolerance
        if builds >= max_tries:
            break
        trial = [c for c in chosen if c != op]
        if within(trial):
            chosen = trial
    report.suggested_fp32_ops = chosen


def _divergent_ops(layers, tolerance) -> List[str]:
    ops: List[str] = []
    kept = kept_in_float32()
    for layer in layers:
        if over(layer, tolerance) and layer.relax_op not in kept and layer.relax_op not in ops:
            ops.append(layer.relax_op)
    return ops
