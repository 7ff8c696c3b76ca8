"""Pieces shared by the importers: the ``(mod, params)`` contract and input-name checks."""

from __future__ import annotations

from typing import Dict, Mapping, Optional, Sequence

import numpy as np

ShapeDict = Mapping[str, Sequence[int]]
Params = Dict[str, np.ndarray]


def _copy_proto(msg):
    out = type(msg)()
    out.CopyFrom(msg)
    return out


def _check_shape_names(shape: Optional[ShapeDict], inputs: Sequence[str], what: str):
    if shape is None:
        return
    if not isinstance(shape, Mapping):
        raise TypeError(f"shape must be a dict mapping input names to shapes, got {type(shape)!r}")
    for name in shape:
        if name not in inputs:
            raise ValueError(f"unknown input name {name!r} in shape; the {what}'s inputs are {list(inputs)}")


def _detach_weights(mod, what: str):
    """``(mod, params)``: the importer's weight parameters of ``main`` (those after its
    ``num_input`` model inputs, values kept in its "params" attribute) moved out into a dict."""
    from tvm.relax.frontend import detach_params

    mod, detached = detach_params(mod)
    values = detached.get("main", [])
    func = mod["main"]
    num_input = int(func.attrs["num_input"]) if "num_input" in func.attrs else 0
    weight_vars = list(func.params)[num_input:]
    if len(weight_vars) != len(values):  # pragma: no cover - importer invariant
        raise RuntimeError(f"{what} import: {len(weight_vars)} weight parameters but {len(values)} values")
    # Re-key by parameter name: the form BindParams takes (it matches names to vars).
    return mod, {var.name: tensor.numpy() for var, tensor in zip(weight_vars, values)}
