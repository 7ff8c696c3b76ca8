"""tvm_trt.build: RunCodegen (our relax.ext.tensorrt) + tvm.compile."""
from __future__ import annotations

import json
from typing import Any, Dict, Optional

import tvm
from tvm import relax


def build(mod: tvm.IRModule, target, config: Optional[Dict[str, Any]] = None, **options: Any):
    """Generate the TensorRT stubs for the partitioned ``mod`` and compile the rest for ``target``.

    ``config`` (as returned by ``partition_for_tensorrt``) and ``options`` override what the
    partitioned functions carry. The stubs are compiled for the target's host."""
    target = target if isinstance(target, tvm.target.Target) else tvm.target.Target(target)
    codegen_options = dict(config or {})
    codegen_options.update(options)
    host = target.host if target.host is not None else (target if target.kind.name in ("llvm", "c") else None)
    if host is not None:
        codegen_options["host_target"] = str(host)  # a Target's str() is its JSON form
    codegen_options = {k: (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in codegen_options.items()}
    mod = relax.transform.RunCodegen({"tensorrt": codegen_options})(mod)
    return tvm.compile(mod, target)
