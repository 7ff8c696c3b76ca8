"""Where offloaded weights live: raw bytes in an object file linked into the library.

Codegen writes every offloaded weight, once, straight from the constants' memory into a
relocatable ELF object (one read-only section; one exported symbol per subgraph, named by the
digest of its weights) and hands it to TVM as a static library module, which ``export_library``
links into ``model.so`` beside the stubs. TVM's executable keeps no copy. At run time the
weights are read-only data of the loaded library: the runtime finds the symbol and makes NumPy
views over those pages (no decode, no copy; they load from the file as TensorRT or TVM reads
them). The digest (engine cache keys) is computed at compile time. An executable run in the
process that built it (not exported) finds its arrays in ``in_process``.

The TVM fallback of a subgraph (``tvm_trt.build(fallback=True)``) is the same function flattened,
its constants made parameters, called from ``main`` through the closure ``tvm_trt.weights`` returns:
the twin with its weights bound once per VM (views of the same bytes on the host, one device copy
kept per device otherwise; no VM instruction per weight): no second stored copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import struct
import tempfile
from typing import Dict, List, Sequence, Tuple

import numpy as np
import tvm
import tvm_ffi
from tvm import relax

from ..core import graph, ir
from ..core.spec_format import DIGEST_ATTR, OK_SUFFIX, WEIGHTS_FUNC, symbol  # noqa: F401  (re-exported)
from ..runtime.weights import register_in_process  # noqa: F401  (codegen registers what it built)

ALIGN = 64


def as_array(const) -> np.ndarray:
    """A NumPy view of a constant's host data (no copy)."""
    try:
        return np.from_dlpack(const.value)
    except (TypeError, BufferError, RuntimeError):  # dtypes NumPy's DLPack import lacks (bfloat16)
        return ir.const_value(const)


def _bytes(a: np.ndarray) -> memoryview:
    return memoryview(np.ascontiguousarray(a).reshape(-1).view(np.uint8))  # any dtype, no copy


def digest(arrays: Sequence[np.ndarray]) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(json.dumps([list(a.shape), str(a.dtype)]).encode())
        h.update(_bytes(a))
    return h.hexdigest()


def layout(arrays: Sequence[np.ndarray]) -> Tuple[List[int], int]:
    """Byte offsets of the arrays in a subgraph's region (each aligned), and the region's size."""
    offsets, size = [], 0
    for a in arrays:
        size = -(-size // ALIGN) * ALIGN
        offsets.append(size)
        size += a.nbytes
    return offsets, -(-size // ALIGN) * ALIGN


_MACHINES = {"x86_64": 62, "amd64": 62, "aarch64": 183, "arm64": 183}  # ELF e_machine


def _machine(host_triple: str) -> int:
    arch = (host_triple.split("-")[0] if host_triple else "") or platform.machine().lower()
    if arch not in _MACHINES:
        raise RuntimeError(
            f"tvm_trt: cannot store weights for host {host_triple or arch!r} (ELF x86_64 / aarch64 only)"
        )
    return _MACHINES[arch]


def write_elf_object(path: str, regions: Dict[str, Sequence[np.ndarray]], host_triple: str = "") -> None:
    """A relocatable ELF object whose read-only section holds each region's bytes under a global
    symbol: the weights are written once, straight from the arrays (no assembler, no copy)."""
    names, offsets, sizes, pos = [], [], [], 0
    for wid, values in regions.items():
        offs, size = layout(values)
        names.append(symbol(wid))
        offsets.append(pos)
        sizes.append(size)
        pos += size
    data_off = ALIGN  # after the 64-byte ELF header
    strtab = b"\0" + b"".join(n.encode() + b"\0" for n in names)
    name_at = [1 + sum(len(n) + 1 for n in names[:i]) for i in range(len(names))]
    symtab = b"\0" * 24 + b"".join(
        struct.pack("<IBBHQQ", name_at[i], 0x11, 0, 1, offsets[i], sizes[i]) for i in range(len(names))
    )  # STB_GLOBAL | STT_OBJECT, default visibility, in section 1
    machine = _machine(host_triple)
    # x86-64: a "large" section (.lrodata, SHF_X86_64_LARGE), which the linker places after the
    # code and small data, so past 2 GiB of weights PC-relative references still fit.
    large = machine == 62
    section = b".lrodata.tvm_trt_weights" if large else b".rodata.tvm_trt_weights"
    flags = 0x2 | (0x10000000 if large else 0)  # SHF_ALLOC (| SHF_X86_64_LARGE)
    shnames = [b"", section, b".symtab", b".strtab", b".shstrtab", b".note.GNU-stack"]
    shstrtab = b"\0".join(shnames) + b"\0"
    sh_name = [sum(len(n) + 1 for n in shnames[:i]) for i in range(len(shnames))]
    symtab_off = data_off + pos
    symtab_off += -symtab_off % 8
    strtab_off = symtab_off + len(symtab)
    shstrtab_off = strtab_off + len(strtab)
    shdr_off = shstrtab_off + len(shstrtab)
    shdr_off += -shdr_off % 8
    sections = [
        (0, 0, 0, 0, 0, 0, 0, 0, 0),
        (1, flags, data_off, pos, 0, 0, ALIGN, 0, 1),  # PROGBITS
        (2, 0, symtab_off, len(symtab), 3, 1, 8, 24, 2),  # SYMTAB -> .strtab, first global = 1
        (3, 0, strtab_off, len(strtab), 0, 0, 1, 0, 3),
        (3, 0, shstrtab_off, len(shstrtab), 0, 0, 1, 0, 4),
        (1, 0, shdr_off, 0, 0, 0, 1, 0, 5),  # .note.GNU-stack: no executable stack
    ]
    header = (
        b"\x7fELF"
        + bytes([2, 1, 1, 0])
        + b"\0" * 8
        + struct.pack("<HHIQQQIHHHHHH", 1, machine, 1, 0, 0, shdr_off, 0, 64, 0, 0, 64, len(sections), 4)
    )
    with open(path, "wb") as f:
        f.write(header.ljust(data_off, b"\0"))
        for values, base in zip(regions.values(), offsets):
            for a, off in zip(values, layout(values)[0]):
                f.seek(data_off + base + off)
                f.write(_bytes(a))
        f.seek(symtab_off)
        f.write(symtab + strtab + shstrtab)
        f.seek(shdr_off)
        for typ, flags, off, size, link, info, align, entsize, idx in sections:
            f.write(struct.pack("<IIQQQQIIQQ", sh_name[idx], typ, flags, 0, off, size, link, info, align, entsize))


def weights_object(regions: Dict[str, Sequence[np.ndarray]], host_triple: str = ""):
    """A static library module (an object TVM links into the exported library) holding
    ``regions`` (weights id -> arrays) as raw bytes under one exported symbol per id."""
    work = tempfile.mkdtemp(prefix="tvm_trt_weights_")
    try:
        obj = os.path.join(work, "weights.o")
        write_elf_object(obj, regions, host_triple)
        return tvm.runtime.load_static_library(obj, [])
    finally:
        shutil.rmtree(work, ignore_errors=True)


class _Constants(graph.Visitor):
    """Tensor constants in the order the spec builder meets them (leaf by leaf)."""

    def __init__(self):
        self.found: Dict[relax.Constant, int] = {}

    def call(self, call, args):
        return None

    def tuple(self, items):
        return None

    def get_item(self, value, index):
        return None

    def leaf(self, expr):
        if ir.is_constant(expr) and expr not in self.found:
            self.found[expr] = len(self.found)
        return None


def flatten(func: relax.Function, name: str) -> Tuple[relax.Function, List[relax.Constant]]:
    """``func`` with its composites inlined and its tensor constants as trailing parameters."""
    collect = _Constants()
    graph.walk(func, [None] * len(func.params), collect)
    consts = list(collect.found)
    params = [relax.Var(str(p.name), p.ty) for p in func.params]
    wvars = {c: relax.Var(f"w{i}", c.ty) for i, c in enumerate(consts)}
    bb = relax.BlockBuilder()

    class _Emit(graph.Visitor):
        def call(self, c, args):
            return bb.emit(relax.Call(c.op, args, c.attrs, c.ty_args))

        def tuple(self, items):
            return relax.Tuple(items)

        def get_item(self, value, index):
            if isinstance(value, relax.Tuple):
                return value.fields[index]
            return bb.emit(relax.TupleGetItem(value, index))

        def leaf(self, expr):
            return wvars.get(expr, expr) if ir.is_constant(expr) else expr

    with bb.function(name, params + list(wvars.values()), private=True):
        with bb.dataflow():
            out = graph.walk(func, params, _Emit())
            if not tvm_ffi.structural_equal(out.ty, func.ret_ty, map_free_vars=True):
                # dims the function declares but its ops do not derive (an output shape computed from
                # values, given as a shape parameter): kept, so TVM's passes keep the signature stable
                out = bb.match_cast(out, func.ret_ty)
            out = bb.emit_output(out)
        bb.emit_func_output(out)
    return bb.get()[name], consts


def lift(mod: tvm.IRModule, symbols: List[str], fallback: bool) -> tvm.IRModule:
    """Attach each offloaded function's weights digest (computed once, here); with ``fallback``
    add its TVM twin ``<symbol>_tvm`` and make main call it when TensorRT cannot run the subgraph."""
    flats, consts = {}, {}
    for name in symbols:
        func = mod[name]
        flat, consts[name] = flatten(func, name)
        wid = digest([as_array(c) for c in consts[name]])
        mod[name] = func.with_attr(DIGEST_ATTR, wid)
        flats[name] = (flat, wid[:24])
    if not fallback:
        return mod
    bb = relax.BlockBuilder(mod)
    twins = {}
    for name, (flat, wid) in flats.items():
        # A value-shaped subgraph (partition.value_shapes) is typed with main's symbolic vars and takes an
        # R.Shape its ops never read. The twin gets vars of its own and is public: TVM's passes may drop
        # such a parameter of a private function and retype it, and main, which passes the twin by value
        # to tvm_trt.weights, would keep calling the old one.
        twin = relax.utils.copy_with_new_vars(flat).with_attrs(
            {"num_input": len(mod[name].params), "global_symbol": f"{name}_tvm"}
        )
        twins[name] = (bb.add_func(twin, f"{name}_tvm"), wid)
    mod = relax.transform.ToNonDataflow()(bb.get())
    main_gv = mod.get_global_var("main")
    mod.update_func(main_gv, _CallSites(mod, consts, twins).visit_expr(mod[main_gv]))
    return relax.transform.ConvertToDataflow(min_size=1)(mod)


@relax.expr_functor.mutator
class _CallSites(relax.expr_functor.PyExprMutator):
    """``y = f(x)`` becomes ``y = f(x); if f_ok(y0): y else tvm_trt.weights(id, y0, f_tvm)(x)``
    (``f_ok``, emitted by codegen beside the stub, is False once the runtime has given the
    subgraph to TVM; ``y0``, the first output, orders it after the stub; ``tvm_trt.weights``
    returns ``f_tvm`` with the weights bound as its last arguments)."""

    def __init__(self, mod, consts, twins):
        super().__init__(mod)
        self.consts, self.twins = consts, twins

    def visit_var_binding_(self, binding):
        value = binding.value
        name = value.op.name_hint if isinstance(value, relax.Call) and isinstance(value.op, relax.GlobalVar) else None
        if name not in self.twins:
            return super().visit_var_binding_(binding)
        twin, wid = self.twins[name]
        args = [self.visit_expr(a) for a in value.args]
        y = self.builder_.emit(relax.Call(value.op, args), "trt_out")
        first = self.builder_.emit(relax.TupleGetItem(y, 0)) if isinstance(y.ty, relax.TupleType) else y
        ok = self.builder_.emit(
            relax.op.call_pure_packed(name + OK_SUFFIX, first, ty_args=tvm.ir.PrimType("bool")), "trt_ok"
        )
        closure_ty = relax.FuncType([a.ty for a in args], y.ty)
        bound = relax.Var("twin", closure_ty)
        fetch = relax.op.call_pure_packed(WEIGHTS_FUNC, tvm.ir.StringImm(wid), first, twin, ty_args=closure_ty)
        ran = relax.Var("tvm_ran", relax.ObjectType())
        out = relax.Var("tvm_out", y.ty)
        # TVM lowers invoke_closure to a call typed R.Any: a match_cast types the result
        bindings = [
            relax.VarBinding(bound, fetch),
            relax.VarBinding(ran, relax.op.invoke_pure_closure(bound, relax.Tuple(args), [ran.ty])),
            relax.MatchCast(out, ran, y.ty),
        ]
        branch = relax.If(ok, relax.SeqExpr([], y), relax.SeqExpr([relax.BindingBlock(bindings)], out))
        self.builder_.emit_normalized(relax.VarBinding(binding.var, self.builder_.normalize(branch)))
