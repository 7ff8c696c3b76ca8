"""The layer-by-layer comparison as data (``DebugReport``) with its text and JSON renderers."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Dict, List, Optional

import numpy as np


@dataclasses.dataclass
class LayerError:
    """One Relax binding offloaded to TensorRT: its TensorRT value against TVM's float32 value."""

    name: str  # "<subgraph>/<binding>": accepted by the fp32_ops option
    relax_op: str
    shape: List[int]
    trt_dtype: str  # the type TensorRT computed it in (half, float, int8, ...)
    max_abs_err: float
    max_rel_err: float  # max_abs_err / the largest |value| of TVM's result (scale-relative)
    cosine: Optional[float]  # None where undefined (non-finite values, an all-zero tensor)
    nonfinite: int  # inf/nan in TensorRT's value


def measure(name: str, relax_op: str, got: np.ndarray, want: np.ndarray, trt_dtype: str) -> LayerError:
    a = np.asarray(got, dtype=np.float64).ravel()
    b = np.asarray(want, dtype=np.float64).ravel()
    nonfinite = int(a.size - np.count_nonzero(np.isfinite(a)))
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - b)
    max_abs = float(np.nanmax(diff)) if diff.size and not np.isnan(diff).all() else 0.0
    if nonfinite:
        max_abs = math.inf
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    max_rel = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else math.inf)
    cosine = None
    if not nonfinite and a.size:
        norm = float(np.linalg.norm(a) * np.linalg.norm(b))
        cosine = float(np.dot(a, b) / norm) if norm > 0 else None
    return LayerError(name, relax_op, list(np.shape(want)), trt_dtype, max_abs, max_rel, cosine, nonfinite)


def over(layer: LayerError, tolerance: float) -> bool:
    return layer.nonfinite > 0 or layer.max_rel_err > tolerance


@dataclasses.dataclass
class DebugReport:
    """``tvm_trt.debug.compare``'s answer. ``layers`` are in execution order (subgraph by subgraph)."""

    precision: str
    tolerance: float
    random_inputs: bool  # random data: real inputs show the activations that matter
    layers: List[LayerError]
    output_max_rel_err: float  # the model's outputs against TVM's float32 run of the whole model
    suggested_fp32_ops: Optional[List[str]] = None  # Relax op names; None when no set was found / tried
    tried_fp32_ops: List[Dict] = dataclasses.field(default_factory=list)  # [{"fp32_ops", "output_max_rel_err"}]
    skipped: List[str] = dataclasses.field(default_factory=list)  # what could not be compared, and why

    @property
    def first_divergent(self) -> Optional[LayerError]:
        return next((layer for layer in self.layers if over(layer, self.tolerance)), None)

    @property
    def outputs_within_tolerance(self) -> bool:
        return self.output_max_rel_err <= self.tolerance

    def ranked(self) -> List[LayerError]:
        """Layers by error, largest first (non-finite values first of all)."""
        return sorted(self.layers, key=lambda layer: (-layer.nonfinite, -layer.max_rel_err))

    def growing(self) -> List[LayerError]:
        """The layers where the error reaches a new maximum along the network (where it grows)."""
        rows, worst = [], -1.0
        for layer in self.layers:
            err = math.inf if layer.nonfinite else layer.max_rel_err
            if err > worst:
                rows.append(layer)
                worst = err
        return rows

    def to_dict(self) -> Dict:
        first = self.first_divergent
        return {
            "precision": self.precision,
            "tolerance": self.tolerance,
            "random_inputs": self.random_inputs,
            "output_max_rel_err": _num(self.output_max_rel_err),
            "outputs_within_tolerance": self.outputs_within_tolerance,
            "layers": [{k: _num(v) for k, v in dataclasses.asdict(layer).items()} for layer in self.layers],
            "first_divergent": {k: _num(v) for k, v in dataclasses.asdict(first).items()} if first else None,
            "suggested_fp32_ops": self.suggested_fp32_ops,
            "tried_fp32_ops": [{**t, "output_max_rel_err": _num(t["output_max_rel_err"])} for t in self.tried_fp32_ops],
            "skipped": self.skipped,
        }

    def to_json(self, path: Optional[str] = None) -> str:
        text = json.dumps(self.to_dict(), indent=2)
        if path:
            with open(path, "w") as f:
                f.write(text)
        return text

    def to_text(self, limit: int = 25) -> str:
        lines = [
            f"precision {self.precision}, tolerance {self.tolerance:g} (max |err| / max |FP32 value| per layer); "
            f"{len(self.layers)} layers compared with TVM float32",
            f"model outputs: max rel err {_fmt(self.output_max_rel_err)} "
            f"({'within' if self.outputs_within_tolerance else 'OVER'} tolerance)",
        ]
        if self.random_inputs:
            lines.append("inputs: random data (real inputs show the activations that matter; pass inputs= / --input)")
        growing = self.growing()
        rows = growing[-limit:]
        lines.append("")
        shown = f" (the last {len(rows)} of {len(growing)})" if len(rows) < len(growing) else ""
        lines.append(f"layers where the error grows{shown}:")
        lines.append(
            f"  {'layer':<28} {'relax op':<24} {'dtype':<6} {'max abs':>10} {'max rel':>10} "
            f"{'cosine':>8} {'inf/nan':>7}"
        )
        for layer in rows:
            cosine = f"{layer.cosine:8.5f}" if layer.cosine is not None else f"{'-':>8}"
            lines.append(
                f"  {layer.name:<28} {layer.relax_op:<24} {layer.trt_dtype:<6} {_fmt(layer.max_abs_err):>10} "
                f"{_fmt(layer.max_rel_err):>10} {cosine} {layer.nonfinite:>7}"
            )
        first = self.first_divergent
        lines.append("")
        if first is None:
            lines.append("first divergent layer: none (every layer within tolerance)")
        else:
            lines.append(
                f"first divergent layer: {first.name} ({first.relax_op}, shape {first.shape}, "
                f"{first.trt_dtype}): max rel err {_fmt(first.max_rel_err)}, {first.nonfinite} inf/nan"
            )
        for tried in self.tried_fp32_ops:
            lines.append(
                f"  tried fp32_ops={tried['fp32_ops']}: outputs max rel err {_fmt(tried['output_max_rel_err'])}"
            )
        if self.suggested_fp32_ops:
            lines.append(f"suggested fp32_ops: {self.suggested_fp32_ops}")
        elif self.tried_fp32_ops:
            lines.append("suggested fp32_ops: none found among the ops tried")
        for reason in self.skipped:
            lines.append(f"not compared: {reason}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def plot(self, path: str) -> None:
        from .plot import plot_errors

        plot_errors(self, path)


def _num(value):
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "inf" / "nan": JSON has no literal for them
    return value


def _fmt(value: float) -> str:
    return "inf" if value == math.inf else f"{value:.3g}"
