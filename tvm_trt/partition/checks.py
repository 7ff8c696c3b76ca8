"""Which calls TensorRT can take (the registry's answer), and the fusion patterns derived from the
registry."""

from __future__ import annotations

from typing import Optional

import tvm
from tvm import relax
from tvm.relax.dpl import is_op, wildcard

from ..core import registry
from ..core.registry import PartitionOptions
from .options import CODEGEN


def check_call(call: relax.Call, opts: PartitionOptions) -> Optional[str]:
    """Why ``call`` must stay in TVM, or None when TensorRT can take it: its registry entry's
    policy (``registry.get(op).policy``: the generic checks of ``core.call_checks``, the op's
    version gate and dtypes, its predicate)."""
    return registry.reason(call, opts)


def op_patterns(check):
    """TVM's pattern table from the registry; ``check(ctx)`` (a ``decisions.Recorder``'s) says
    which matched calls TensorRT takes."""
    pats = []
    for name, entry in registry.entries().items():
        for n in entry.arities or (tvm.ir.Op.get(name).num_inputs,):
            root = is_op(name)(*[wildcard() for _ in range(n)])
            pats.append((f"{CODEGEN}.{name[len('relax.') :]}", root, {"root": root}, check))
    return pats
