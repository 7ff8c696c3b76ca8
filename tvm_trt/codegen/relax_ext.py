"""``relax.ext.tensorrt``: offloaded functions -> a host module of small stubs + a weights object.

Each offloaded function becomes a TIR PrimFunc named by its symbol whose body is

    if tvm_trt.run(key, *tensors) != 0:         # 1 = this process has not seen the subgraph yet
        tvm_trt.load(key, blob); tvm_trt.run(key, *tensors)

``blob`` is the spec's JSON text, a string constant inside the library; it crosses into Python
once per process, not per call. The weights are raw bytes in a second module (an object file
TVM links into the exported ``.so``) under a symbol named by their digest (see
``codegen.weights_writer``). Tensors are passed as raw DLTensor handles (device and shape intact) to
our Python runtime, which ``import tvm_trt`` registers.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List

import tvm
import tvm_ffi
from tvm import relax
from tvm import tirx as tir

from ..core import ir
from .. import partition
from . import spec, weights_writer
from ..runtime import aot

RUN_FUNC = "tvm_trt.run"
LOAD_FUNC = "tvm_trt.load"


def _stub(symbol: str, num_args: int, key: str, blob: str) -> tir.PrimFunc:
    params = [tir.Var(f"arg{i}", "handle") for i in range(num_args)]
    key_imm = tvm.ir.StringImm(key)
    run = tir.call_packed(RUN_FUNC, key_imm, *params)
    body = tir.IfThenElse(
        run != 0,
        tir.SeqStmt(
            [
                tir.Evaluate(tir.call_packed(LOAD_FUNC, key_imm, tvm.ir.StringImm(blob))),
                tir.Evaluate(tir.call_packed(RUN_FUNC, key_imm, *params)),
            ]
        ),
        None,
    )
    return tir.PrimFunc(params, body).with_attr("global_symbol", symbol)


def function_config(func: relax.Function, options: Dict[str, Any]) -> Dict[str, Any]:
    """Config attached by partition_for_tensorrt, else defaults (TVM's own annotation);
    RunCodegen target options override both."""
    attached = func.attrs.get(partition.CONFIG_ATTR) if func.attrs is not None else None
    given = {k: ir.to_py(v) for k, v in dict(options or {}).items()}
    return partition.default_config(**{**(json.loads(str(attached)) if attached is not None else {}), **given})


def compile_functions(functions, options=None) -> List[tvm.runtime.Module]:
    """-> [stubs module, weights object module (when any subgraph has weights)]."""
    stubs, regions = {}, {}
    host = None
    for func in functions:
        symbol = str(func.attrs["global_symbol"])
        config = function_config(func, options)
        host = host or config.get("host_target")
        subgraph, values = spec.from_function(func, symbol, config)
        digest, blob = spec.pack(subgraph)
        if config.get("build_at_compile_time"):  # embed plans: the deployment needs no builder
            blob = aot.attach(blob, aot.build_plans(subgraph, values, digest))
        wid = spec.weights_id(subgraph) if values else ""
        if wid:
            regions[wid] = values
        num_args = len(func.params) + len(subgraph["outputs"])
        stubs[symbol] = _stub(symbol, num_args, f"{symbol}:{digest[:20]}", blob)
    target = tvm.target.Target(host or "llvm")
    mods = [tvm.tirx.build(tvm.IRModule(stubs), target=target)]
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
