"""The TIR codegen emits per offloaded subgraph: its stub and its ``<symbol>_ok`` guard.

The stub reads its tensors' DLTensor fields in compiled code and crosses into Python once:

    if state[key] != 0:                         # the subgraph has not fallen back to TVM's code
        r = tvm_trt.run(key, device_type, device_id, data..., dynamic dims...)
        if r == NOT_LOADED:                     # the first call of this process
            tvm_trt.load(key, blob); tvm_trt.run(key, ...)

``state[key]`` is one byte owned by the runtime (``tvm_trt.state(key)`` gives its address once;
the stub keeps it in a static slot of the library), set to 0 when the subgraph falls back for good:
from then on the stub does not enter Python. ``<symbol>_ok()`` returns that byte to ``main``,
which runs TVM's twin of the subgraph when it is 0 (see ``weights.lift``).
"""

from __future__ import annotations

from typing import List, Sequence

import tvm
from tvm import tirx as tir

from ..core.spec_format import LOAD_FUNC, NOT_LOADED, OK_SUFFIX, RUN_FUNC, STATE_FUNC

# DLTensor fields for tvm_struct_get
_DATA, _SHAPE, _BYTE_OFFSET, _DEVICE_ID, _DEVICE_TYPE = 1, 2, 8, 9, 10


def _packed(dtype: str, name: str, *args):
    return tir.call_intrin(dtype, "tirx.tvm_call_packed", tvm.ir.StringImm(name), *args)


def _field(dtype: str, handle, kind: int):
    return tir.call_intrin(dtype, "tirx.tvm_struct_get", handle, 0, kind)


def _view(name: str, dtype: str, size: int, pointer):
    buf = tir.decl_buffer((size,), dtype, name, data=tir.Var(name + "_ptr", tvm.ir.PointerType(tvm.ir.PrimType(dtype))))
    return tir.DeclBuffer(buf, data=pointer), buf


def _state_byte(key: str):
    """Statements that find the state byte (asking Python once per loaded library) and the byte."""
    decl_slot, slot = _view("state_slot", "int64", 1, tir.call_intrin("handle", "tirx.tvm_static_handle"))
    fetch = tir.IfThenElse(
        tir.BufferLoad(slot, [0]) == 0,
        tir.BufferStore(slot, _packed("int64", STATE_FUNC, tvm.ir.StringImm(key)), [0]),
        None,
    )
    decl_state, state = _view("state", "int8", 1, tir.reinterpret("handle", tir.BufferLoad(slot, [0])))
    return [decl_slot, fetch, decl_state], tir.BufferLoad(state, [0])


def stub(
    symbol: str, num_args: int, skip: Sequence[int], dynamic_ndims: Sequence[int], key: str, blob: str
) -> tir.PrimFunc:
    """``dynamic_ndims``: per tensor argument (inputs, then outputs), its rank when its shape has a
    symbolic dim (its dims are passed), else 0."""
    params = [tir.Var(f"arg{i}", "handle") for i in range(num_args)]
    tensors = [p for i, p in enumerate(params) if i not in set(skip)]
    first = tensors[0]
    args: List = [tvm.ir.StringImm(key), _field("int32", first, _DEVICE_TYPE), _field("int32", first, _DEVICE_ID)]
    # each data pointer (+ byte_offset) reaches Python as a plain int (no ctypes object to unwrap)
    args += [
        tir.call_intrin(
            "int64", "tirx.handle_add_byte_offset", _field("handle", t, _DATA), _field("uint64", t, _BYTE_OFFSET)
        )
        for t in tensors
    ]
    decls = []
    for i, (t, ndim) in enumerate(zip(tensors, dynamic_ndims)):
        if ndim:
            decl, dims = _view(f"shape{i}", "int64", ndim, _field("handle", t, _SHAPE))
            decls.append(decl)
            args += [tir.BufferLoad(dims, [d]) for d in range(ndim)]
    find, alive = _state_byte(key)
    run = tir.Var("status", "int32")
    call = tir.SeqStmt(
        decls
        + [
            tir.Bind(run, _packed("int32", RUN_FUNC, *args)),
            tir.IfThenElse(
                run == NOT_LOADED,
                tir.SeqStmt(
                    [
                        tir.Evaluate(_packed("int32", LOAD_FUNC, tvm.ir.StringImm(key), tvm.ir.StringImm(blob))),
                        tir.Evaluate(_packed("int32", RUN_FUNC, *args)),
                    ]
                ),
                None,
            ),
        ]
    )
    body = tir.SeqStmt(find + [tir.IfThenElse(alive != 0, call, None)])
    return tir.PrimFunc(params, body).with_attr("global_symbol", symbol)


def ok_func(symbol: str, key: str) -> tir.PrimFunc:
    """``<symbol>_ok(y)``: True unless the subgraph has fallen back to TVM's code (``y``, the
    stub's first output, only orders the call after the stub's)."""
    find, alive = _state_byte(key)
    body = tir.SeqStmt(find + [tir.Return(alive != 0)])
    return tir.PrimFunc([tir.Var("after", "handle")], body, ret_type=tvm.ir.PrimType("bool")).with_attr(
        "global_symbol", symbol + OK_SUFFIX
    )
