"""``tvm-trt`` model loading: ONNX files, MXNet checkpoint prefixes and ``module:function``, each with one-line errors."""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import os
import re
import sys
from typing import Optional

from ..core.ir import error_line
from ..core.tvm_log import captured_output
from .common import UsageError


def load_model(spec: str, shapes, simplify: Optional[bool] = None, tensorrt_parser: Optional[bool] = None):
    """(mod, params) from an ONNX file, an MXNet checkpoint prefix or ``module:function``."""
    from .. import frontend

    if os.path.isdir(spec):
        raise UsageError(f"MODEL {spec!r} is a directory: give an .onnx file, an MXNet prefix or module:function")
    if os.path.isfile(spec):
        check_onnx_shapes(spec, shapes)
        if not shapes:
            return frontend.from_onnx(spec, simplify=simplify, tensorrt_parser=tensorrt_parser)
        return _from_onnx_with_shapes(spec, shapes, simplify, tensorrt_parser)
    if os.path.isfile(f"{spec}-symbol.json"):
        if not shapes:
            raise UsageError(f"MXNet model {spec!r} needs --input-shape for every input")
        return _from_mxnet(spec, shapes)
    module_name, sep, func_name = spec.partition(":")
    if sep and module_name and func_name:
        return _from_function(spec, module_name, func_name)
    raise UsageError(
        f"MODEL {spec!r} not found: expected an .onnx file, an MXNet prefix with {spec}-symbol.json, or module:function"
    )


def simplify_option(args) -> Optional[bool]:
    return False if args.no_simplify else None


def tensorrt_parser_option(args) -> Optional[bool]:
    return {"auto": None, "always": True, "never": False}[args.tensorrt_parser]


def check_onnx_shapes(path: str, shapes) -> None:
    """--input-shape must keep each input's rank (TVM's importer would fail deep inside)."""
    if not shapes:
        return
    import onnx

    try:
        model = onnx.load(path, load_external_data=False)
    except Exception:
        return  # the frontend reports unreadable files
    for inp in model.graph.input:
        if inp.name not in shapes or not inp.type.tensor_type.HasField("shape"):
            continue
        dims = [
            d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in inp.type.tensor_type.shape.dim
        ]
        given = list(shapes[inp.name])
        if len(dims) != len(given):
            raise UsageError(
                f"--input-shape {inp.name}={','.join(map(str, given))} does not fit the model's input "
                f"{inp.name} of shape [{', '.join(map(str, dims))}]"
            )


def _from_onnx_with_shapes(path: str, shapes, simplify: Optional[bool] = None, tensorrt_parser: Optional[bool] = None):
    """Fixed dims may be overridden (a batch of 8 for a model exported with 1); when TVM's importer
    then cannot convert an operator, one line says which shape did not fit and why."""
    from .. import frontend

    failure = None
    # TVM's importer prints and logs when an operator does not convert: kept back, and re-emitted only when
    # it is not replaced by one line
    with captured_output((1, 2), python_streams=True) as captured:
        try:
            model = frontend.from_onnx(path, shape=shapes, simplify=simplify, tensorrt_parser=tensorrt_parser)
        except frontend.ONNXImportError as err:  # TVM's importer failed: the error names the op
            failure = (err.reason, err.op)
        except (ValueError, TypeError, RuntimeError) as err:  # TVM's errors derive from these
            failure = (error_line(err), None)
        finally:
            gc.collect()  # TVM's BlockBuilder logs when the failed import's builder goes
    noise = "".join(captured)
    if failure is None:
        sys.stderr.write(noise)
        return model
    reason, op = failure  # from_onnx already took the op's name out of TVM's printout
    where = f" at {op}" if op else ""
    raise UsageError(f"the model does not take --input-shape {_shapes_text(shapes)}{where}: {reason}")


def _shapes_text(shapes) -> str:
    """``{"x": (1, 3)}`` as the user typed it: ``x=1,3``."""
    return " ".join(f"{k}={','.join(map(str, v))}" for k, v in shapes.items())


def _from_mxnet(prefix: str, shapes):
    from .. import frontend

    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):  # MXNet prints every argument's shape on failure
            model = frontend.from_mxnet(prefix, shape=shapes)
    except Exception as err:
        if type(err).__name__ != "MXNetError":
            sys.stdout.write(printed.getvalue())
            raise
        # MXNet's message is its whole C++ stack; the line naming the failing operator is the one to keep
        lines = [re.sub(r"\[\d\d:\d\d:\d\d\] \S+:\d+: ", "", ln.strip()) for ln in str(err).splitlines() if ln.strip()]
        key = next((ln for ln in lines if "Error in operator" in ln or "Check failed" in ln), lines[0] if lines else "")
        raise UsageError(
            f"MXNet model {prefix!r} does not accept --input-shape {_shapes_text(shapes)}: {key}"
        ) from None
    sys.stdout.write(printed.getvalue())
    return model


def _from_function(spec: str, module_name: str, func_name: str):
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # `tvm-trt report mymodel:build` finds ./mymodel.py
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise UsageError(f"cannot import {module_name!r} for MODEL {spec!r}: {err}") from None
    except SyntaxError as err:
        raise UsageError(
            f"cannot import {module_name!r} for MODEL {spec!r}: {err.msg} ({err.filename}, line {err.lineno})"
        ) from None
    func = getattr(module, func_name, None)
    if not callable(func):
        raise UsageError(f"{module_name!r} has no function {func_name!r}")
    result = func()
    if not (isinstance(result, tuple) and len(result) == 2):
        raise UsageError(f"{spec} must return (mod, params), got {type(result).__name__}")
    return result
