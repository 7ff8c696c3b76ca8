"""PyTorch importer: ``torch.export`` and TVM's exported-program frontend."""

from __future__ import annotations

from typing import Any, Sequence, Tuple

from ._common import Params, _detach_weights

TORCH_HINT = "PyTorch is required to import torch modules: pip install torch"


def from_torch(module, example_inputs: Sequence[Any], dynamic_shapes=None) -> Tuple[Any, Params]:
    """Import a ``torch.nn.Module`` through ``torch.export`` and TVM's exported-program frontend.

    ``example_inputs`` (a tuple of tensors) fix the input shapes and dtypes; ``dynamic_shapes``
    is passed to ``torch.export.export`` as is, e.g. ``({0: torch.export.Dim("batch")},)`` for
    a dynamic batch (it becomes a symbolic dim of ``main``). Returns ``(mod, params)`` as
    :func:`from_onnx`: weights are trailing parameters of ``main``, keyed by their Relax names.
    The module is exported in eval mode.
    """
    try:
        import torch
        from tvm.relax.frontend.torch import from_exported_program
    except ImportError as err:
        raise ImportError(TORCH_HINT) from err

    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"expected a torch.nn.Module, got {type(module)!r}")
    example_inputs = tuple(example_inputs) if isinstance(example_inputs, (list, tuple)) else (example_inputs,)
    with torch.no_grad():
        exported = torch.export.export(module.eval(), example_inputs, dynamic_shapes=dynamic_shapes)
        mod = from_exported_program(exported, keep_params_as_input=True, unwrap_unit_return_tuple=True)
    return _detach_weights(mod, "PyTorch")
