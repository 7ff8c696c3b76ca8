"""Model importers: ONNX, MXNet and PyTorch to a Relax ``IRModule`` plus a separate weight dict.

One module per source framework (``onnx``, ``mxnet``, ``torch``); each importer returns ``(mod, params)`` where

* ``mod`` is an ``IRModule`` whose ``main`` takes the model inputs first, then one Relax
  parameter per weight (ONNX initializer); the ``num_input`` attribute of ``main`` counts
  the model inputs.
* ``params`` is a ``dict`` mapping each weight parameter's Relax name (``var.name``) to a
  ``numpy.ndarray``. It is accepted as is by ``relax.transform.BindParams("main", params)``,
  which turns the weights into constants::

      mod, params = from_onnx("model.onnx", shape={"data": (1, 3, 224, 224)})
      mod = relax.transform.BindParams("main", params)(mod)

  Weights are the floating-point initializers with more than one element; other
  initializers (scalars such as Clip bounds, integer shape/axes operands) are embedded in
  ``mod`` as constants (see ``canonicalize`` in :func:`from_onnx`).

MXNet models go through MXNet's own ONNX exporter (``mx.onnx.export_model``), with
work-arounds for two of its bugs (BatchNorm ``fix_gamma`` dropped, FullyConnected's default
``flatten`` misread), and then through :func:`from_onnx`. PyTorch modules go through
``torch.export`` and TVM's exported-program frontend. MXNet and torch are imported lazily,
only by the functions that need them.
"""

from ._common import Params, ShapeDict
from .mxnet import MXNET_HINT, from_mxnet, mxnet_to_onnx
from .onnx import ONNXImportError, from_onnx, onnx_input_names
from .torch import TORCH_HINT, from_torch

__all__ = [
    "MXNET_HINT",
    "ONNXImportError",
    "TORCH_HINT",
    "Params",
    "ShapeDict",
    "from_mxnet",
    "from_onnx",
    "from_torch",
    "mxnet_to_onnx",
    "onnx_input_names",
]
