"""MXNet importer: MXNet's own ONNX exporter (with work-arounds for two of its bugs), then
:func:`tvm_trt.frontend.onnx.from_onnx`. MXNet is imported lazily, only by the functions that need it."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Mapping, Sequence, Tuple, Union

import numpy as np

from ._common import Params, ShapeDict, _check_shape_names, _copy_proto
from .onnx import from_onnx

MXNET_HINT = "MXNet is required to import MXNet models: pip install 'tvm-trt[mxnet]'"


def _import_mxnet():
    try:
        import mxnet as mx
    except ImportError as err:
        raise ImportError(MXNET_HINT) from err
    return mx


def _dtype_for(dtype, name):
    if isinstance(dtype, Mapping):
        return np.dtype(dtype.get(name, "float32"))
    return np.dtype(dtype)


def _normalise_mx_params(mx, params) -> dict:
    """arg/aux params (one dict, or [arg, aux]) -> {name: NDArray} without arg:/aux: prefixes."""
    if params is None:
        return {}
    if isinstance(params, (list, tuple)):
        merged = {}
        for part in params:
            merged.update(part)
        params = merged
    out = {}
    for key, value in params.items():
        name = key.split(":", 1)[1] if key.startswith(("arg:", "aux:")) else key
        out[name] = value if isinstance(value, mx.nd.NDArray) else mx.nd.array(np.asarray(value))
    return out


def _load_mx_checkpoint(mx, prefix: str):
    sym_file, params_file = f"{prefix}-symbol.json", f"{prefix}-0000.params"
    for path in (sym_file, params_file):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"MXNet checkpoint file not found: {path!r}")
    try:
        sym = mx.sym.load(sym_file)
    except mx.base.MXNetError as err:
        raise ValueError(f"MXNet checkpoint {sym_file!r} is not a readable symbol file ({_first_line(err)})") from None
    try:
        loaded = mx.nd.load(params_file)
    except mx.base.MXNetError as err:  # a corrupt file is not a shape problem: name the file
        raise ValueError(
            f"MXNet checkpoint {params_file!r} is not a readable params file ({_first_line(err)})"
        ) from None
    return sym, _normalise_mx_params(mx, loaded)


def _first_line(err) -> str:
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    return next((ln for ln in lines if "Check failed" in ln or "Invalid" in ln), lines[0] if lines else "")


def _fix_gamma_params(mx, sym, params) -> dict:
    """A params dict whose fixed gammas are ones.

    MXNet's BatchNorm ignores gamma (uses 1) when ``fix_gamma`` is true, which is the
    default of the Symbol API (Gluon sets it for ``BatchNorm(scale=False)``); MXNet's ONNX
    exporter drops that attribute and would export the stored gamma instead.
    """
    nodes = json.loads(sym.tojson())["nodes"]
    out = dict(params)
    for node in nodes:
        if node["op"] != "BatchNorm":
            continue
        fix = str(node.get("attrs", {}).get("fix_gamma", "True")).lower() in ("true", "1")
        gamma = nodes[node["inputs"][1][0]]["name"] if len(node["inputs"]) > 1 else None
        if fix and gamma in out:
            out[gamma] = mx.nd.ones_like(out[gamma])
    return out


def _export_symbol_onnx(mx, sym, params, shape: ShapeDict, dtype, onnx_path: str):
    """Run mx.onnx.export_model on a symbol whose data inputs are exactly ``shape``'s keys."""
    data_names = [n for n in sym.list_inputs() if n not in params]
    _check_shape_names(shape, data_names, "symbol")
    missing = [n for n in data_names if n not in shape]
    if missing:
        raise ValueError(
            f"no shape given for input(s) {missing}; the symbol's inputs are {data_names} "
            "(a symbol argument missing from params also counts as an input)"
        )
    # export_model binds in_shapes/in_types positionally to the non-param symbol inputs.
    in_shapes = [tuple(int(d) for d in shape[n]) for n in data_names]
    in_types = [_dtype_for(dtype, n).type for n in data_names]
    sym = _explicit_fc_flatten(mx, sym)
    params = _fix_gamma_params(mx, sym, params)
    mx.onnx.export_model(sym, params, in_shapes, in_types, onnx_path)


def _explicit_fc_flatten(mx, sym):
    """``sym`` with FullyConnected's ``flatten`` attribute spelt out.

    MXNet's ONNX exporter reads a missing ``flatten`` as false (MXNet's default is true) and
    then emits a Shape/Slice/Concat/Reshape chain that TVM's ONNX importer cannot convert.
    """
    graph = json.loads(sym.tojson())
    changed = False
    for node in graph["nodes"]:
        if node["op"] == "FullyConnected" and "flatten" not in node.setdefault("attrs", {}):
            node["attrs"]["flatten"] = "True"
            changed = True
    return mx.sym.load_json(json.dumps(graph)) if changed else sym


def _rename_onnx_inputs(model, renames: Mapping[str, str]):
    """Rename graph inputs (and their uses) in place."""
    renames = {k: v for k, v in renames.items() if k != v}
    if not renames:
        return
    taken = {i.name for i in model.graph.input} | {t.name for t in model.graph.initializer}
    taken |= {o for node in model.graph.node for o in node.output}
    clash = [v for v in renames.values() if v in taken and v not in renames]
    if clash:
        raise ValueError(f"input name(s) {clash} clash with tensor names in the exported model")
    for value in model.graph.input:
        value.name = renames.get(value.name, value.name)
    for node in model.graph.node:
        for i, name in enumerate(node.input):
            node.input[i] = renames.get(name, name)
    for value in model.graph.output:  # an input passed straight through
        value.name = renames.get(value.name, value.name)


def _order_onnx_inputs(model, names: Sequence[str]):
    """Put the graph inputs named in ``names`` first, in that order (in place)."""
    rank = {n: i for i, n in enumerate(names)}
    inputs = [_copy_proto(v) for v in model.graph.input]
    inputs.sort(key=lambda v: rank.get(v.name, len(rank)))  # stable: the rest keep order
    del model.graph.input[:]
    model.graph.input.extend(inputs)


def mxnet_to_onnx(
    block_or_symbol,
    shape: ShapeDict,
    params=None,
    dtype: Union[str, Mapping[str, str]] = "float32",
):
    """Convert an MXNet model to an ``onnx.ModelProto`` with MXNet's ONNX exporter.

    Takes the same model arguments as :func:`from_mxnet`. For a HybridBlock the ONNX inputs
    are renamed to ``shape``'s keys and ordered like them (the forward argument order); for
    a Symbol or a checkpoint they keep the symbol's names and ``list_inputs()`` order.
    """
    import onnx

    mx = _import_mxnet()
    if not isinstance(shape, Mapping) or not shape:
        raise ValueError("shape must be a non-empty dict mapping input names to shapes")

    with tempfile.TemporaryDirectory(prefix="tvm_trt_mx_") as tmp:
        onnx_path = os.path.join(tmp, "model.onnx")
        renames, order = {}, []
        if isinstance(block_or_symbol, mx.gluon.Block):
            block = block_or_symbol
            if not isinstance(block, mx.gluon.HybridBlock):
                raise TypeError("only HybridBlocks can be exported; got a plain gluon Block")
            if params is not None:
                raise ValueError("params must be None for a Gluon block (it owns its parameters)")
            # export() needs a cached graph: hybridize, then run forward once.
            block.hybridize()
            args = [mx.nd.zeros(tuple(s), dtype=_dtype_for(dtype, n)) for n, s in shape.items()]
            block(*args)
            prefix = os.path.join(tmp, "model")
            block.export(prefix, epoch=0)
            sym, mx_params = _load_mx_checkpoint(mx, prefix)
            # Gluon names exported inputs "data" (one input) or "data0", "data1", ... by position.
            names = list(shape)
            exported = ["data"] if len(names) == 1 else [f"data{i}" for i in range(len(names))]
            renames, order = dict(zip(exported, names)), names
            _export_symbol_onnx(
                mx,
                sym,
                mx_params,
                {e: shape[n] for e, n in renames.items()},
                {e: _dtype_for(dtype, n) for e, n in renames.items()},
                onnx_path,
            )
        elif isinstance(block_or_symbol, mx.sym.Symbol):
            if params is None:
                raise ValueError("params (arg + aux parameter dict) is required with a Symbol")
            _export_symbol_onnx(mx, block_or_symbol, _normalise_mx_params(mx, params), shape, dtype, onnx_path)
        elif isinstance(block_or_symbol, (str, os.PathLike)):
            if params is not None:
                raise ValueError("params must be None with a checkpoint prefix")
            sym, mx_params = _load_mx_checkpoint(mx, os.fspath(block_or_symbol))
            _export_symbol_onnx(mx, sym, mx_params, shape, dtype, onnx_path)
        else:
            raise TypeError(
                "expected a gluon HybridBlock, an mx.sym.Symbol or a checkpoint prefix string, "
                f"got {type(block_or_symbol)!r}"
            )
        model = onnx.load(onnx_path)
    _rename_onnx_inputs(model, renames)
    if order:
        _order_onnx_inputs(model, order)
    return model


def from_mxnet(
    block_or_symbol,
    shape: ShapeDict,
    params=None,
    dtype: Union[str, Mapping[str, str]] = "float32",
) -> Tuple[Any, Params]:
    """Import an MXNet model into Relax via MXNet's ONNX exporter and :func:`from_onnx`.

    Parameters
    ----------
    block_or_symbol : gluon.HybridBlock, mx.sym.Symbol or str
        * a Gluon ``HybridBlock`` (initialised): it is hybridized, run once on zeros and
          exported; ``shape``'s keys name its forward arguments, in order;
        * an ``mx.sym.Symbol``, with ``params``: a dict of arg and aux parameters (keys may
          carry ``arg:``/``aux:`` prefixes; values NDArrays or numpy arrays) or ``[arg, aux]``;
        * a checkpoint prefix ``"dir/name"``: loads ``dir/name-symbol.json`` and
          ``dir/name-0000.params``.
    shape : dict of str to sequence of int
        Static shape of every model input.
    params : dict, optional
        Only with a Symbol (see above).
    dtype : str or dict of str to str
        Input dtype(s).

    Returns
    -------
    (mod, params) : as :func:`from_onnx`.
    """
    model = mxnet_to_onnx(block_or_symbol, shape, params=params, dtype=dtype)
    return from_onnx(model, shape=shape, dtype=dtype)
