"""The build's safety net: where TVM's passes reject a partitioned module (VMShapeLower: "PrimExpr
... has not been computed" when a symbolic dim is only defined inside a subgraph), the offloaded
functions involved go back to TVM with one warning naming them and TVM's reason, and the module
is compiled again. Plain TVM compiles the module it was partitioned from, so the flow never
crashes where plain TVM works; only a failure that remains with nothing offloaded is raised."""

from __future__ import annotations

import re
import warnings
from typing import Callable, List, Set

import tvm
from tvm import relax

from ..core import ir
from .. import partition


class TVMBuildError(RuntimeError):
    """tvm.compile failed on the lowered module (the message is TVM's reason, one line)."""


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _signature_vars(func: relax.Function) -> Set[str]:
    """Symbolic vars in the types of a function's params and result."""
    names: Set[str] = set()
    for expr in list(func.params) + [func.body.body if isinstance(func.body, relax.SeqExpr) else func.body]:
        for ty in ir.tensor_types(expr):
            for dim in ir.dims(ty) or []:
                if isinstance(dim, str):
                    names |= set(_WORD.findall(dim)) - {"T", "int64", "int32"}
    return names


def involved(mod: tvm.IRModule, err: Exception) -> List[str]:
    """The offloaded functions an error names, by name or through a symbolic var of their signature;
    all of them when it names none (TVM does not always say where)."""
    words = set(_WORD.findall(str(err)))
    offloaded = partition.offloaded_functions(mod)
    named = [n for n, f in offloaded.items() if n in words or _signature_vars(f) & words]
    return named or sorted(offloaded)


def compile_with_rescue(mod: tvm.IRModule, compile_fn: Callable[[tvm.IRModule], object], what: str = "tvm_trt.build"):
    """``compile_fn(mod)``; on a failure, the offloaded functions involved are put back into TVM
    and the module is compiled again (at most once per offloaded function)."""
    while True:
        try:
            return compile_fn(mod)
        except TVMBuildError as err:  # TVM's failure; ours (codegen, TensorRT) are raised as they are
            offloaded = partition.offloaded_functions(mod)
            if not offloaded:
                raise err.__cause__ from None
            names = involved(mod, err)
            warnings.warn(
                f"{what}: {', '.join(names)} stay{'s' if len(names) == 1 else ''} in TVM: the build failed "
                f"with {'it' if len(names) == 1 else 'them'} offloaded ({err})",
                stacklevel=3,
            )
            mod = partition.inline_offloaded(mod, {n: f"TVM's build failed with it offloaded: {err}" for n in names})
