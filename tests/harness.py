"""Shared harness for converter tests: one Relax op -> partition -> TensorRT-RTX plan ->
reference executor, compared with TVM-LLVM on the same module."""

from __future__ import annotations

from typing import Callable, Dict, Sequence, Tuple

import numpy as np
import tvm
from tvm import relax

import tvm_trt
from tvm_trt import partition as part

InputSpec = Dict[str, Tuple[Sequence, str]]  # name -> (shape, dtype)


def make_module(build: Callable, inputs: InputSpec) -> tvm.IRModule:
    """``build(*vars)`` returns a Relax expr (or a list of exprs to emit in order, last = output)."""
    bb = relax.BlockBuilder()
    params = [relax.Var(name, relax.TensorType(list(shape), dtype)) for name, (shape, dtype) in inputs.items()]
    with bb.function("main", params):
        with bb.dataflow():
            out = build(*params)
            exprs = out if isinstance(out, (list, tuple)) else [out]
            value = None
            for e in exprs[:-1]:
                value = bb.emit(e)
            value = bb.emit_output(exprs[-1])
        bb.emit_func_output(value)
    return bb.get()


def remaining_ops(mod: tvm.IRModule):
    """Op calls left to TVM in main."""
    calls = []
    for block in mod["main"].body.blocks:
        for binding in block.bindings:
            v = binding.value
            if isinstance(v, relax.Call) and isinstance(v.op, tvm.ir.Op):
                calls.append(v)
    return calls


def reasons(mod: tvm.IRModule, **options):
    """{op name: reason} for each op call ``partition_for_tensorrt`` leaves in TVM, as it recorded them."""
    return {d.op: d.reason for d in part.partition_with_record(mod, **options)[2].rejected}


def assert_offloaded(mod: tvm.IRModule, **options) -> tvm.IRModule:
    pmod, _, record = part.partition_with_record(mod, **options)
    left = {d.op: d.reason for d in record.rejected}
    assert not left, f"left in TVM: {list(left)} ({left})"
    assert len(part.offloaded_functions(pmod)) == 1
    return pmod


def assert_rejected(mod: tvm.IRModule, op: str, reason: str, **options) -> None:
    got = reasons(mod, **options)
    assert op in got, f"{op} was offloaded; left in TVM: {got}"
    assert reason in (got[op] or ""), f"reason for {op}: {got[op]!r}, expected to contain {reason!r}"


def run_vm(ex, args: Sequence[np.ndarray]):
    """main(*args) of a compiled module (an executable or a loaded library) on the CPU, as a list of arrays:
    the one VM-run helper of the tests."""
    out = relax.VirtualMachine(ex, tvm.cpu())["main"](*[tvm.runtime.tensor(a) for a in args])
    if isinstance(out, tvm.runtime.Tensor):
        return [out.numpy()]
    return [o.numpy() for o in out]


def run_llvm(mod: tvm.IRModule, args: Sequence[np.ndarray]):
    return run_vm(tvm.compile(mod, "llvm"), args)


def run_offloaded(pmod: tvm.IRModule, args: Sequence[np.ndarray]):
    return run_vm(tvm_trt.build(pmod, "llvm", fallback=False), args)  # the reference executor never falls back


def random_inputs(inputs: InputSpec, seed: int = 0, low: float = -1.0, high: float = 1.0):
    rng = np.random.default_rng(seed)
    out = []
    for shape, dtype in inputs.values():
        if dtype.startswith("float"):
            out.append(rng.uniform(low, high, size=shape).astype(dtype))
        elif dtype == "bool":
            out.append(rng.random(size=shape) > 0.5)
        else:
            out.append(rng.integers(0, 4, size=shape).astype(dtype))
    return out


def _plans_made() -> int:
    stats = tvm_trt.runtime_stats()
    return stats["engines_built"] + stats["engines_loaded_from_cache"]


def check_op(build: Callable, inputs: InputSpec, *, rtol=1e-4, atol=1e-4, args=None, **options):
    """The op is offloaded whole, TensorRT builds a plan, and the reference executor's numbers
    match TVM-LLVM."""
    mod = make_module(build, inputs)
    pmod = assert_offloaded(mod, **options)
    args = args if args is not None else random_inputs(inputs)
    want = run_llvm(mod, args)
    built_before = _plans_made()
    got = run_offloaded(pmod, args)
    assert _plans_made() > built_before, "no TensorRT plan was built"
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, g.dtype, w.shape, w.dtype)
        np.testing.assert_allclose(g.astype("float64"), w.astype("float64"), rtol=rtol, atol=atol)
    return pmod
