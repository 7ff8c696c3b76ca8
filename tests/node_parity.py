"""Node-suite cases that TensorRT's own ONNX parser takes whole and TVM imports, but that tvm_trt
does not offload whole with the right numbers, each with its reason.

Keyed by a fragment of the failure (``node_suite.parity_verdict``'s detail), as
tests/reference/test_fidelity.py keys its lists: a listed case that starts to pass fails the
test, and so does an unlisted case that fails, so the list stays true.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

# {fragment of the failure: (reason, case names)}
ALLOWED: Dict[str, Tuple[str, Tuple[str, ...]]] = {}


def allowed(name: str) -> Optional[Tuple[str, str]]:
    """(fragment, reason) of a listed case, else None."""
    for fragment, (reason, names) in ALLOWED.items():
        if name in names:
            return fragment, reason
    return None
