"""``relax.ext.tensorrt``: offloaded functions -> a host module of small stubs + a weights object.

Each offloaded function becomes a TIR PrimFunc named by its symbol (``codegen.stubs``): it reads
its tensors' data pointers, device and dynamic dims in compiled code and calls our Python runtime
once, ``tvm_trt.run(key, ...)`` (plain integers and pointers; ``import tvm_trt`` registers it).
On the first call of a process, ``tvm_trt.load(key, blob)`` hands the spec over: ``blob`` is the
spec's JSON text, a string constant inside the library. Beside it, ``<symbol>_ok`` tells ``main``
whether TVM's twin must run instead. The weights are raw bytes in a second module (an object file
TVM links into the exported ``.so``) under a symbol named by their digest (see
``codegen.weights_writer``).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List

import tvm
import tvm_ffi
from tvm import relax

from ..core import ir
from ..core.parsed_marks import is_parsed
from ..core.spec_format import OK_SUFFIX
from .. import partition
from . import parsed_spec, spec, stubs, weights_writer
from ..runtime import aot


def function_config(func: relax.Function, options: Dict[str, Any]) -> Dict[str, Any]:
    """Config attached by partition_for_tensorrt, else defaults (TVM's own annotation);
    RunCodegen target options override both."""
    attached = func.attrs.get(partition.CONFIG_ATTR) if func.attrs is not None else None
    given = {k: ir.to_py(v) for k, v in dict(options or {}).items()}
    return partition.default_config(**{**(json.loads(str(attached)) if attached is not None else {}), **given})


def compile_functions(functions, options=None) -> List[tvm.runtime.Module]:
    """-> [stubs module, weights object module (when any subgraph has weights)]."""
    funcs, regions = {}, {}
    host = None
    for func in functions:
        symbol = str(func.attrs["global_symbol"])
        config = function_config(func, options)
        host = host or config.get("host_target")
        if is_parsed(func):  # TensorRT's ONNX parser's network (frontend/trt_parser.py)
            subgraph, values = parsed_spec.spec_of(func, symbol, config)
        else:
            subgraph, values = spec.from_function(func, symbol, config)
        digest, blob = spec.pack(subgraph)
        if config.get("build_at_compile_time"):  # embed plans: the deployment needs no builder
            blob = aot.attach(blob, aot.build_plans(subgraph, values, digest))
        wid = spec.weights_id(subgraph) if values else ""
        if wid:
            regions[wid] = values
        num_args = len(func.params) + len(subgraph["outputs"])
        key = f"{symbol}:{digest[:20]}"
        tensors = subgraph["inputs"] + subgraph["outputs"]
        dynamic = [len(t["shape"]) if any(isinstance(d, str) for d in t["shape"]) else 0 for t in tensors]
        funcs[symbol] = stubs.stub(symbol, num_args, subgraph["skip_args"], dynamic, key, blob)
        funcs[symbol + OK_SUFFIX] = stubs.ok_func(symbol, key)
    target = tvm.target.Target(host or "llvm")
    mods = [tvm.tirx.build(tvm.IRModule(funcs), target=target)]
    if regions:
        mods.append(weights_writer.weights_object(regions, str(target.attrs.get("mtriple", "") or "")))
        weights_writer.register_in_process(regions)
    return mods


def _codegen(functions, options, constant_names):
    return compile_functions(list(functions), options) if len(functions) else []


def register() -> bool:
    """Registers relax.ext.tensorrt unless TVM has its own (a source build with TensorRT)."""
    ours = tvm.get_global_func("tvm_trt.codegen_registered", allow_missing=True) is not None
    if tvm.get_global_func("relax.ext.tensorrt", allow_missing=True) is not None and not ours:
        return False
    tvm_ffi.register_global_func("relax.ext.tensorrt", _codegen, override=True)
    tvm_ffi.register_global_func("tvm_trt.codegen_registered", lambda: True, override=True)
    return True
