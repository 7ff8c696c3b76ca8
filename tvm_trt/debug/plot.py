"""Error per layer along the network (matplotlib, the ``plot`` extra)."""

from __future__ import annotations

import math


def plot_errors(report, path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'tvm-trt[plot]'") from None
    errors = [layer.max_rel_err for layer in report.layers]
    finite = [e for e in errors if math.isfinite(e) and e > 0]
    ceiling = max(finite + [report.tolerance]) * 10
    floor = min(finite + [report.tolerance]) / 10
    shown = [ceiling if not math.isfinite(e) else max(e, floor) for e in errors]
    fig, ax = plt.subplots(figsize=(9, 3.6), dpi=80)
    ax.plot(range(len(shown)), shown, marker=".", linewidth=1, color="#1f77b4", label="max rel err")
    bad = [i for i, layer in enumerate(report.layers) if layer.nonfinite]
    if bad:
        ax.scatter(bad, [ceiling] * len(bad), color="#d62728", marker="x", zorder=3, label="inf/nan")
    ax.axhline(report.tolerance, color="#7f7f7f", linestyle="--", linewidth=1, label=f"tolerance {report.tolerance:g}")
    first = report.first_divergent
    if first is not None:
        index = report.layers.index(first)
        ax.axvline(index, color="#d62728", linewidth=1)
        ax.annotate(
            f"first divergent: {first.name}\n({first.relax_op})",
            (index, shown[index]),
            textcoords="offset points",
            xytext=(6, -24),
            fontsize=8,
            color="#d62728",
        )
    ax.set_yscale("log")
    ax.set_xlabel("layer (execution order)")
    ax.set_ylabel("max |err| / max |FP32|")
    ax.set_title(f"TensorRT {report.precision} vs TVM float32, layer by layer")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
