"""tvm_trt.build: RunCodegen (our relax.ext.tensorrt) + tvm.compile."""

from __future__ import annotations

import json
import warnings
from typing import Any, Dict, Optional

import tvm
from tvm import relax

from . import rescue, weights_writer
from ..core import precision_gate
from ..core.ir import error_line
from ..core.options import CompileOptions
from ..core.parsed_marks import is_parsed
from ..core.tvm_log import quiet
from ..partition import CONFIG_ATTR, check_options, offloaded_functions


@quiet  # TVM's C++ warnings (gather lowering...) go to the debug log
def build(mod: tvm.IRModule, target, config: Optional[Dict[str, Any]] = None, **options: Any):
    """Generate the TensorRT stubs for the partitioned ``mod`` and compile the rest for ``target``.

    ``config`` (as returned by ``partition_for_tensorrt``) and ``options`` override what the
    partitioned functions carry. The stubs are compiled for the target's host; the weights go
    into an object file linked into the library (``codegen.weights_writer``). With
    ``fallback`` (default on; also ``config["fallback"]``) each offloaded function is also
    compiled by TVM for ``target``, and runs when TensorRT cannot run the subgraph."""
    given = target
    target = target if isinstance(target, tvm.target.Target) else tvm.target.Target(target)
    codegen_options = dict(config or {})
    codegen_options.update(options)
    check_options(codegen_options, "tvm_trt.build")
    offloaded = offloaded_functions(mod)
    carried = next(
        (
            json.loads(str(f.attrs[CONFIG_ATTR]))
            for f in offloaded.values()
            if f.attrs is not None and CONFIG_ATTR in f.attrs
        ),
        {},
    )
    effective = CompileOptions.from_json({**carried, **codegen_options}, "tvm_trt.build")
    precision_gate.check_compile(
        effective, precision_gate.target_arch(target, given), precision_gate.has_fp8(offloaded.values())
    )
    codegen_options["fallback"] = bool(codegen_options.get("fallback", True))
    host = target.host if target.host is not None else (target if target.kind.name in ("llvm", "c") else None)
    if host is not None:
        codegen_options["host_target"] = str(host)  # a Target's str() is its JSON form
    return rescue.compile_with_rescue(mod, lambda m: _compile(m, target, dict(codegen_options)))


def _compile(mod, target, codegen_options):
    """Stubs + tvm.compile; where TVM cannot compile the fallback of the offloaded subgraphs,
    again without it (TensorRT alone runs them). TVM's failures raise rescue.TVMBuildError."""
    symbols = list(offloaded_functions(mod))
    lowered = _codegen(mod, symbols, codegen_options)
    if codegen_options["fallback"]:
        try:
            return tvm.compile(lowered, target)
        except Exception as err:  # TVM cannot compile some offloaded op: TensorRT alone can still run it
            warnings.warn(
                f"tvm_trt.build: TVM cannot compile the fallback of the offloaded subgraphs ({error_line(err)}); "
                "building without the fallback (TensorRT must run them)",
                stacklevel=4,
            )
        codegen_options["fallback"] = False
        lowered = _codegen(mod, symbols, codegen_options)
    try:
        return tvm.compile(lowered, target)
    except Exception as err:  # TVM raises InternalError/TVMError/ValueError... from its passes
        raise rescue.TVMBuildError(error_line(err)) from err


def _codegen(mod, symbols, codegen_options):
    """Weights lifted (and, with the fallback, TVM's twin of each subgraph added), stubs generated:
    what is left for tvm.compile. Errors here are ours or TensorRT's, never the fallback's."""
    ours = [s for s in symbols if not is_parsed(mod[s])]  # TensorRT's parser's functions have no TVM twin
    mod = weights_writer.lift(mod, ours, codegen_options["fallback"])
    mod = relax.transform.RunCodegen({"tensorrt": codegen_options})(mod)
    return drop_lifted_constants(mod, symbols)


def drop_lifted_constants(mod: tvm.IRModule, symbols) -> tvm.IRModule:
    """RunCodegen also lifts every constant of an offloaded function into the module attribute
    ``const_name_to_constant``, which tvm.compile turns into a constant-loader module that loads
    all of them into memory at load time. Our stubs read their weights from the object file
    linked into the library and never read those, so drop ours (a second full copy of the weights in the library)."""
    lifted = mod.attrs.get("const_name_to_constant") if mod.attrs is not None else None
    if not lifted:
        return mod
    prefixes = tuple(f"{s}_" for s in symbols)
    keep = {k: v for k, v in lifted.items() if not str(k).startswith(prefixes)}
    mod = mod.without_attr("const_name_to_constant")
    return mod.with_attr("const_name_to_constant", keep) if keep else mod
