"""ONNX importer: TVM's ONNX frontend with the weights kept out of the module."""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import io
import os
import re
import sys
import warnings
from typing import Any, Mapping, Optional, Tuple, Union


from ..core.ir import error_line
from . import trt_parser
from .onnx_canonical import make_canonical, shape_operands_as_constants
from ._common import Params, ShapeDict, _check_shape_names, _copy_proto, _detach_weights
from ..core.tvm_log import quiet

SIMPLIFY_HINT = "simplify=True needs onnxslim: pip install 'tvm-trt[onnx]'"


class ONNXImportError(RuntimeError):
    """TVM's ONNX importer failed on a model; the message names the model, the ONNX op and TVM's reason.

    ``op`` is the ONNX op type being converted (None when unknown), ``reason`` TVM's message in one line."""

    def __init__(self, message: str, op: Optional[str] = None, reason: str = ""):
        super().__init__(message)
        self.op, self.reason = op, reason


def _load_onnx(model_or_path):
    """An ``onnx.ModelProto`` from a ModelProto or a file path."""
    import onnx

    if isinstance(model_or_path, onnx.ModelProto):
        return model_or_path
    if not isinstance(model_or_path, (str, os.PathLike)):
        raise TypeError(f"expected an onnx.ModelProto or a path to an .onnx file, got {type(model_or_path)!r}")
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


def onnx_input_names(model) -> list:
    """Names of the graph inputs that are real inputs (not initializers), in graph order."""
    inits = {t.name for t in model.graph.initializer}
    return [i.name for i in model.graph.input if i.name not in inits]


def from_onnx(
    model_or_path,
    shape: Optional[ShapeDict] = None,
    dtype: Union[str, Mapping[str, str]] = "float32",
    canonicalize: bool = True,
    simplify: Optional[bool] = None,
    tensorrt_parser: Optional[bool] = None,
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
    simplify : bool, optional
        Run ONNX shape inference and ``onnxslim.slim`` (constant folding, shape-subgraph
        folding, dead-code removal; numbers unchanged) on a copy of the model before TVM's
        importer, with ``shape``'s input shapes applied first. TVM's importer fails on some
        plain exports that import after slimming (Swin-T, GPT-2 eager attention). Default:
        on when onnxslim is installed (``pip install 'tvm-trt[onnx]'``), and when TVM's importer
        fails on the slimmed graph but takes the plain one (some dynamic-shape exports), the plain
        import is used with a warning; ``False`` imports the model as it is; ``True`` insists.

    tensorrt_parser : bool, optional
        TensorRT's own ONNX parser as a second front door. None (default): where TVM's importer
        refuses the model and the parser takes it whole, ``main`` calls one offloaded function
        ``tensorrt_0`` whose network is the parser's (a warning says so; no TVM fallback for it);
        True: always so; False: never (the importer's error is raised).

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
    ONNXImportError
        TVM's importer failed; the one-line message names the model, the ONNX op being
        converted and TVM's reason.
    ImportError
        ``simplify=True`` without onnxslim installed.
    """
    model = _load_onnx(model_or_path)
    _check_shape_names(shape, onnx_input_names(model), "model")
    shape_dict = _checked_shapes(shape)
    name = _model_name(model_or_path, model)
    _warn_newer_opset(model, name)
    if tensorrt_parser:
        return trt_parser.from_onnx(model, shape_dict, name)
    try:
        mod = _tvm_import(model, name, shape_dict, dtype, simplify)
    except ONNXImportError as err:
        from ..core import tensorrt

        if tensorrt_parser is False or not tensorrt.available():
            raise
        return _parsed_instead(model, shape_dict, name, err)
    mod, params = _detach_weights(mod, "ONNX")
    if canonicalize:
        mod, params = make_canonical(mod, params)
    return mod, params


def _parsed_instead(model, shape_dict, name: str, err: "ONNXImportError"):
    """TensorRT's parser's module of a model TVM's importer refused, with a warning; the
    importer's error (plus what the parser takes) where the parser does not take it whole."""
    try:
        mod, params = trt_parser.from_onnx(model, shape_dict, name)
    except Exception as parser_err:
        raise ONNXImportError(f"{err}; {error_line(parser_err)}", err.op, err.reason) from err
    warnings.warn(
        f"{err}; TensorRT's ONNX parser takes {name} whole: it runs as one TensorRT function "
        "(tensorrt_0) with no TVM fallback (tensorrt_parser=False refuses this)",
        stacklevel=3,
    )
    return mod, params


def _tvm_import(model, name: str, shape_dict, dtype, simplify):
    """TVM's importer, on the slimmed model where asked (see from_onnx's ``simplify``)."""
    auto = simplify is None
    if auto:
        simplify = importlib.util.find_spec("onnxslim") is not None
    if not simplify:
        mod = _import_model(model, name, False, shape_dict, dtype)
    else:
        try:
            mod = _import_model(_simplified(model, shape_dict), name, True, shape_dict, dtype)
        except ONNXImportError as slimmed_error:
            if not auto:
                raise
            # TVM's importer takes some slimmed graphs less well than the plain export (folded shape
            # arithmetic on dynamic dims): the default then imports the model as it is.
            try:
                mod = _import_model(model, name, False, shape_dict, dtype)
            except ONNXImportError:
                raise slimmed_error from None
            warnings.warn(f"{slimmed_error}; imported {name} without simplification instead", stacklevel=3)
    return mod


def _checked_shapes(shape) -> Optional[dict]:
    """Input shapes as TVM's importer takes them; a dim that is not a positive int is named here
    (TVM would accept -16 and fail later, far from the cause)."""
    if shape is None:
        return None
    checked = {}
    for key, dims in shape.items():
        try:
            checked[key] = [int(d) for d in dims]
        except (TypeError, ValueError):
            raise ValueError(f"shape[{key!r}] = {dims!r}: expected a sequence of positive ints") from None
        if any(d <= 0 or d > 2**31 - 1 for d in checked[key]):
            raise ValueError(f"shape[{key!r}] = {list(dims)}: every dim must be a positive int below 2**31")
    return checked


def _warn_newer_opset(model, name: str) -> None:
    import onnx

    newest = onnx.defs.onnx_opset_version()
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx") and opset.version > newest:
            warnings.warn(
                f"{name} declares ONNX opset {opset.version}, newer than the {newest} this onnx "
                f"{onnx.__version__} knows: ops may import with older semantics",
                stacklevel=3,
            )


@quiet  # TVM's C++ log lines (BlockBuilder, gather warnings) go to the debug log
def _import_model(model, name: str, simplified: bool, shape_dict, dtype):
    """TVM's importer on ``model``, weights as trailing parameters of main."""
    from tvm.relax.frontend.onnx import from_onnx as _relax_from_onnx

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
        with shape_operands_as_constants(model):
            return _import(
                _relax_from_onnx,
                model,
                name,
                simplified,
                shape_dict=shape_dict,
                dtype_dict=dtype,
                keep_params_in_input=True,
            )
    finally:
        if len(model.graph.input) != len(saved_inputs):
            del model.graph.input[:]
            model.graph.input.extend(saved_inputs)


def _simplified(model, shape_dict):
    """A slimmed copy of ``model`` (shape inference + onnxslim), ``shape_dict``'s input shapes set first."""
    try:
        import onnxslim
    except ImportError as err:
        raise ImportError(SIMPLIFY_HINT) from err
    import onnx

    model = _copy_proto(model)  # onnxslim edits its argument in place
    for value in model.graph.input:
        if shape_dict and value.name in shape_dict:
            dims = value.type.tensor_type.shape.dim
            del dims[:]
            for d in shape_dict[value.name]:
                dims.add().dim_value = d
    try:
        model = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception:  # an inconsistent value_info or an op unknown to ONNX: onnxslim infers what it can
        pass
    return onnxslim.slim(model)


def _model_name(model_or_path, model) -> str:
    if isinstance(model_or_path, (str, os.PathLike)):
        return repr(os.path.basename(os.fspath(model_or_path)))
    return f"ONNX model {model.graph.name!r}" if model.graph.name else "the ONNX model"


_FAILED_OP = re.compile(r"Error converting operator (\w+)")


def _import(importer, model, name: str, simplified: bool, **kwargs):
    """TVM's importer with its failures turned into one line naming the model and the op."""
    # On a failure TVM prints "Error converting operator <op>, with inputs: <every input expr>" to stdout,
    # which can run to megabytes: keep it for its op name, and pass anything else through.
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            return importer(model, **kwargs)
    except Exception as err:
        reason = error_line(err)
    finally:
        if not _FAILED_OP.search(printed.getvalue()):
            sys.stdout.write(printed.getvalue())
    # Raised outside the except block, so the failed import's frames go now: TVM's BlockBuilder logs a C++
    # warning when it is destroyed, which must happen inside our quiet window, not at some later GC.
    gc.collect()
    ops = _FAILED_OP.findall(printed.getvalue())
    op = ops[-1] if ops else None
    hint = "" if simplified else " (imported without simplification; simplify=True may help)"
    where = f" at {op}" if op else ""
    raise ONNXImportError(f"TVM's ONNX importer failed on {name}{where}: {reason}{hint}", op, reason)
