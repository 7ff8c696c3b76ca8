"""What a compiled library and our runtime agree on: a spec's blob (its JSON text) and content hash, the
names of the weights' symbols and views, and the global functions the generated code calls.
``codegen`` writes these; ``runtime`` reads them."""

from __future__ import annotations

import hashlib
import json
from typing import Dict, List, Tuple

import numpy as np

FORMAT = 1
DIGEST_ATTR = "tvm_trt.weights_digest"  # sha256 of the weights' bytes, set by tvm_trt.build
# the global functions a stub calls (codegen.stubs says how), and what tvm_trt.run returns
RUN_FUNC = "tvm_trt.run"
LOAD_FUNC = "tvm_trt.load"
STATE_FUNC = "tvm_trt.state"  # -> address of the subgraph's state byte (1: TensorRT path, 0: TVM's code)
WEIGHTS_FUNC = "tvm_trt.weights"  # -> the TVM twin with its weights bound, on the caller's device
OK_SUFFIX = "_ok"  # <symbol>_ok: the TIR guard main asks whether TVM's twin must run
RAN, NOT_LOADED, DECLINED = 0, 1, 2


def symbol(weights_id: str) -> str:
    """The exported data symbol of a subgraph's weights (content-addressed: same bytes, same name)."""
    return f"tvm_trt_weights_{weights_id}"


def weights_id(spec: Dict) -> str:
    """Names the subgraph's region in the weights object (its accessor)."""
    return spec["weights_digest"][:24]


def content_hash(spec: Dict) -> str:
    """What engine cache keys build on: everything but the names, which say where the subgraph
    sits in its model (tensorrt_3, its inputs' variables), so the same subgraph elsewhere
    reuses the plan."""
    content = {k: v for k, v in spec.items() if k != "symbol"}
    content["inputs"] = [{k: v for k, v in inp.items() if k != "name"} for inp in spec["inputs"]]
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def pack(spec: Dict) -> Tuple[str, str]:
    """-> (content hash hex, blob): the spec's JSON text (a NUL-free C string)."""
    return content_hash(spec), json.dumps(spec, sort_keys=True)


def unpack(blob: str) -> Tuple[Dict, str]:
    """-> (spec, content hash)."""
    spec = json.loads(blob)
    return spec, content_hash(spec)


def weight_views(spec: Dict, address: int) -> List[np.ndarray]:
    """NumPy views of a subgraph's weights at ``address`` (the loaded library's bytes)."""
    import ctypes

    if not spec["weights"]:
        return []
    buf = (ctypes.c_char * spec["weights_bytes"]).from_address(address)
    out = []
    for w in spec["weights"]:
        dtype = np.dtype(w["dtype"]) if w["dtype"] != "bfloat16" else np.dtype(__import__("ml_dtypes").bfloat16)
        count = int(np.prod(w["shape"], dtype=np.int64))
        out.append(np.frombuffer(buf, dtype=dtype, count=count, offset=w["offset"]).reshape(w["shape"]))
    return out
