"""Model importers: ONNX and MXNet to a Relax ``IRModule`` plus a separate weight dict.

Both importers return ``(mod, params)`` where

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
``flatten`` misread), and then through :func:`from_onnx`. MXNet is imported lazily, only by
the functions that need it.
"""
from __future__ import annotations

import functools
import json
import os
import re
import tempfile
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

MXNET_HINT = "MXNet is required to import MXNet models: pip install 'tvm-trt[mxnet]'"

ShapeDict = Mapping[str, Sequence[int]]
Params = Dict[str, np.ndarray]


# ----------------------------------------------------------------------------------- ONNX


def _load_onnx(model_or_path):
    """An ``onnx.ModelProto`` from a ModelProto or a file path."""
    import onnx

    if isinstance(model_or_path, onnx.ModelProto):
        return model_or_path
    if not isinstance(model_or_path, (str, os.PathLike)):
        raise TypeError(
            f"expected an onnx.ModelProto or a path to an .onnx file, got {type(model_or_path)!r}"
        )
    path = os.fspath(model_or_path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"ONNX model file not found: {path!r}")
    if not os.path.isfile(path):
        raise ValueError(f"ONNX model path is not a file: {path!r}")
    try:
        model = onnx.load(path)
    except Exception as err:  # protobuf DecodeError, OSError, ...
        raise ValueError(f"cannot read ONNX model {path!r}: {err}") from err
    if not model.graph.node and not model.graph.input:
        # protobuf happily parses many non-ONNX files into an empty ModelProto
        raise ValueError(f"{path!r} does not contain an ONNX graph")
    return model


def _copy_proto(msg):
    out = type(msg)()
    out.CopyFrom(msg)
    return out


def onnx_input_names(model) -> list:
    """Names of the graph inputs that are real inputs (not initializers), in graph order."""
    inits = {t.name for t in model.graph.initializer}
    return [i.name for i in model.graph.input if i.name not in inits]


def _check_shape_names(shape: Optional[ShapeDict], inputs: Sequence[str], what: str):
    if shape is None:
        return
    if not isinstance(shape, Mapping):
        raise TypeError(f"shape must be a dict mapping input names to shapes, got {type(shape)!r}")
    for name in shape:
        if name not in inputs:
            raise ValueError(
                f"unknown input name {name!r} in shape; the {what}'s inputs are {list(inputs)}"
            )


def from_onnx(
    model_or_path,
    shape: Optional[ShapeDict] = None,
    dtype: Union[str, Mapping[str, str]] = "float32",
    canonicalize: bool = True,
) -> Tuple[Any, Params]:
    """Import an ONNX model into Relax, keeping the weights out of the module.

    Parameters
    ----------
    model_or_path : onnx.ModelProto, str or os.PathLike
        The model, or the path of an ``.onnx`` file.
    shape : dict of str to sequence of int, optional
        Input name -> static shape; inputs not named keep the shapes stored in the model.
    dtype : str or dict of str to str
        Input dtype(s), passed to TVM's ONNX importer as ``dtype_dict``.
    canonicalize : bool
        If true (default), initializers that are not weights (scalars and integer/bool
        tensors: Clip bounds, shape/axes operands, ...) are embedded as constants, and the
        importer's TIR ``maximum``/``minimum`` kernels for ONNX ``Clip`` become
        ``relax.op.clip`` (or ``relax.op.maximum``/``minimum`` for one-sided clips), so
        the module holds only Relax operators for the zoo models.

    Returns
    -------
    (mod, params) : (tvm.IRModule, dict of str to numpy.ndarray)
        ``params`` maps weight parameter names of ``main`` to their values; bind them with
        ``relax.transform.BindParams("main", params)``.

    Raises
    ------
    FileNotFoundError
        The path does not exist.
    ValueError
        The file is not a readable ONNX model, or ``shape`` names an input that the model
        does not have (the message lists the model's inputs).
    """
    from tvm.relax.frontend.onnx import from_onnx as _relax_from_onnx

    model = _load_onnx(model_or_path)
    _check_shape_names(shape, onnx_input_names(model), "model")
    shape_dict = None if shape is None else {k: [int(d) for d in v] for k, v in shape.items()}

    # Weights become trailing parameters of main (values in its "params" attribute) instead
    # of being embedded as constants; detach_params moves them out as {"main": [tensors]}.
    # Exporters that list initializers among graph.input too (MXNet does) would make TVM's
    # importer declare each weight parameter twice, so hide those entries while importing.
    inits = {t.name for t in model.graph.initializer}
    saved_inputs = [_copy_proto(i) for i in model.graph.input]
    if any(i.name in inits for i in saved_inputs):
        kept = [i for i in saved_inputs if i.name not in inits]
        del model.graph.input[:]
        model.graph.input.extend(kept)
    try:
        mod = _relax_from_onnx(
            model, shape_dict=shape_dict, dtype_dict=dtype, keep_params_in_input=True
        )
    finally:
        if len(model.graph.input) != len(saved_inputs):
            del model.graph.input[:]
            model.graph.input.extend(saved_inputs)
    mod, params = _detach_weights(mod, "ONNX")
    if canonicalize:
        mod, params = _canonicalize(mod, params)
    return mod, params


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
        raise RuntimeError(
            f"{what} import: {len(weight_vars)} weight parameters but {len(values)} values"
        )
    # Re-key by parameter name: the form BindParams takes (it matches names to vars).
    return mod, {var.name: tensor.numpy() for var, tensor in zip(weight_vars, values)}


def _is_weight(value: np.ndarray) -> bool:
    return value.dtype.kind in "fc" and value.size > 1


def _canonicalize(mod, params: Params):
    """Embed non-weight initializers as constants and rewrite Clip kernels (see from_onnx)."""
    from tvm import relax

    consts = {k: v for k, v in params.items() if not _is_weight(v)}
    if consts:
        mod = relax.transform.BindParams("main", consts)(mod)
        params = {k: v for k, v in params.items() if k not in consts}
    if any(_MINMAX_KERNEL.match(gv.name_hint) for gv in mod.get_global_vars()):
        mod["main"] = _clip_rewriter()(mod).visit_expr(mod["main"])
        # Drops the kernels and the bound computations that the rewrite left unused.
        mod = relax.transform.DeadCodeElimination(["main"])(mod)
    return mod, params


# TVM's ONNX importer lowers Clip to call_tir of TE kernels named "maximum" / "minimum"
# (topi.maximum / topi.minimum: broadcasting elementwise max / min, same as the Relax ops).
# It guards each bound as where(isnan(b), -/+inf, b); with constant bounds that is folded
# here with numpy (relax FoldConstant would compile a kernel per guard: seconds per model).
_MINMAX_KERNEL = re.compile(r"^(maximum|minimum)(_?\d+)?$")


@functools.lru_cache(maxsize=None)
def _clip_rewriter():
    """A PyExprMutator class (built lazily so that importing this module imports no TVM)."""
    import tvm
    from tvm import relax
    from tvm.relax.expr_functor import PyExprMutator, mutator

    def op_name(expr):
        if isinstance(expr, relax.Call) and isinstance(expr.op, tvm.ir.Op):
            return expr.op.name
        return None

    @mutator
    class ClipRewriter(PyExprMutator):
        def _value(self, expr, depth=0):
            """numpy value of a constant expression built from isnan/where, else None."""
            if depth > 4:
                return None
            if isinstance(expr, tvm.ir.GenericConst):
                return expr.value.numpy()
            if isinstance(expr, relax.Var):
                bound = self.lookup_binding(expr)
                return None if bound is None else self._value(bound, depth + 1)
            name = op_name(expr)
            if name in ("relax.isnan", "relax.where"):
                args = [self._value(a, depth + 1) for a in expr.args]
                if any(a is None for a in args):
                    return None
                return np.isnan(*args) if name == "relax.isnan" else np.where(*args)
            return None

        def _scalar(self, expr):
            value = self._value(expr)
            if value is not None and value.size == 1 and value.dtype.kind == "f":
                return float(value.reshape(()))
            return None

        def _const(self, expr, like):
            """``expr`` as a relax constant of ``like``'s dtype when it is a known scalar."""
            value = self._scalar(expr)
            if value is None or isinstance(expr, tvm.ir.GenericConst):
                return expr
            return relax.const(value, like.ty.dtype)

        def visit_call_(self, call):
            call = self.visit_expr_post_order(call)
            if op_name(call) != "relax.call_tir":
                return call
            gv, args = call.args[0], call.args[1]
            match = _MINMAX_KERNEL.match(getattr(gv, "name_hint", ""))
            if not (match and isinstance(args, relax.Tuple) and len(args.fields) == 2):
                return call
            x, bound = args.fields
            if match.group(1) == "maximum":
                return relax.op.maximum(x, self._const(bound, x))
            # minimum(maximum(y, lo), hi) with scalar constant bounds -> clip(y, lo, hi)
            inner = self.lookup_binding(x) if isinstance(x, relax.Var) else None
            hi = self._scalar(bound)
            if hi is not None and op_name(inner) == "relax.maximum":
                lo = self._scalar(inner.args[1])
                if lo is not None:
                    return relax.op.clip(inner.args[0], lo, hi)
            return relax.op.minimum(x, self._const(bound, x))

    return ClipRewriter


# -------------------------------------------------------------------------------- PyTorch

TORCH_HINT = "PyTorch is required to import torch modules: pip install torch"


def from_torch(module, example_inputs: Sequence[Any]) -> Tuple[Any, Params]:
    """Import a ``torch.nn.Module`` through ``torch.export`` and TVM's exported-program frontend.

    ``example_inputs`` (a tuple of tensors) fix the input shapes and dtypes. Returns
    ``(mod, params)`` as :func:`from_onnx`: weights are trailing parameters of ``main``, keyed
    by their Relax names. The module is exported in eval mode.
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
        exported = torch.export.export(module.eval(), example_inputs)
        mod = from_exported_program(exported, keep_params_as_input=True, unwrap_unit_return_tuple=True)
    return _detach_weights(mod, "PyTorch")


# ---------------------------------------------------------------------------------- MXNet


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
    sym = mx.sym.load(sym_file)
    return sym, _normalise_mx_params(mx, mx.nd.load(params_file))


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
            _export_symbol_onnx(
                mx, block_or_symbol, _normalise_mx_params(mx, params), shape, dtype, onnx_path
            )
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
