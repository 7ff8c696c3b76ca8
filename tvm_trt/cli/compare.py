"""``tvm-trt run --compare``: the library's outputs beside a reference, one line per output.

``--compare onnxruntime`` runs the ONNX model the library was compiled from (its path is in
``LIB.so.json``) in onnxruntime on the same inputs; ``--compare FILE.npz`` reads reference
outputs saved earlier (``run --save``), e.g. from another GPU or an earlier build.
"""

from __future__ import annotations

import os
from typing import Dict, List, Sequence

from ..core.ir import error_line
from .common import UsageError


def check_reference(reference: str, meta: Dict) -> None:
    """Before the run: the reference can be had (the ONNX model and onnxruntime, or a saved .npz)."""
    if reference != "onnxruntime":
        _npz_outputs(reference)
        return
    model = meta.get("model")
    if not model:
        raise UsageError("--compare onnxruntime needs a library compiled from an ONNX file (its .so.json names none)")
    if not os.path.isfile(model):
        raise UsageError(f"--compare onnxruntime: the model {model!r} the library was compiled from is gone")
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        raise UsageError("--compare onnxruntime needs onnxruntime (pip install 'tvm-trt[onnx]')") from None


def _onnxruntime_outputs(meta: Dict, specs: Sequence[Dict], arrays) -> List:
    import onnxruntime as ort

    model = meta["model"]
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    feed = {s["name"]: a for s, a in zip(specs, arrays) if s["name"] in names}
    return session.run(None, feed)


def _npz_outputs(path: str) -> List:
    import numpy as np

    try:
        data = np.load(path)
        return [data[f"output_{i}"] for i in range(len(data.files))]
    except (OSError, ValueError, KeyError, AttributeError) as err:
        raise UsageError(f"--compare {path!r}: not outputs saved by run --save ({error_line(err)})") from None


def compare_outputs(reference: str, meta: Dict, specs, arrays, outputs) -> None:
    import numpy as np

    expected = _onnxruntime_outputs(meta, specs, arrays) if reference == "onnxruntime" else _npz_outputs(reference)
    if len(expected) != len(outputs):
        raise UsageError(f"--compare {reference}: {len(expected)} output(s), the library has {len(outputs)}")
    for i, (got, want) in enumerate(zip(outputs, expected)):
        want = np.asarray(want)
        if got.shape != want.shape:
            print(f"output {i}: shape {list(got.shape)}, {reference} gives {list(want.shape)}")
            continue
        diff = np.abs(got.astype("float64") - want.astype("float64"))
        scale = np.abs(want.astype("float64"))
        rel = float((diff / np.maximum(scale, 1e-6)).max()) if diff.size else 0.0
        print(
            f"output {i} vs {reference}: max abs err {float(diff.max()) if diff.size else 0.0:.3g}, "
            f"max rel err {rel:.3g}"
        )
