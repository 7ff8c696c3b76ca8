"""Find the layer that loses accuracy, without a GPU: every layer of the built TensorRT networks
(FP32, FP16, INT8) against TVM float32 (``compare``), as a report with text, JSON and a plot."""

from .compare import compare, random_inputs
from .report import DebugReport, LayerError

__all__ = ["DebugReport", "LayerError", "compare", "random_inputs"]
