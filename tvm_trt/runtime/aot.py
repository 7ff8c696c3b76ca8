"""Plans built at compile time and embedded in the library (``build_at_compile_time=True``).

The stub's blob is ``<spec blob>`` or ``<spec blob>\n<plans>``: neither a spec's JSON text nor
base64 contains a raw newline.
``<plans>`` = base64 of a checksummed cache entry (cache.encode) whose payload is a JSON line
``[[cache key, size, weight-stripped], ...]`` followed by the plans' bytes. Keys are the engine cache keys, so
a deployment whose settings (FP16, workspace, TensorRT version) differ simply builds lazily.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
from typing import Dict, List, Tuple

from ..core import tensorrt
from ..core.options import CompileOptions
from . import cache, int8_calibration, stripped
from .engine import BuildSettings, build_plan, cache_key, is_static
from .profiles import Profiles

logger = logging.getLogger("tvm_trt")

SEPARATOR = "\n"


def build_plans(spec: Dict, weights: List, content_hash: str) -> Dict[str, bytes]:
    """{cache key: plan} for a static-shaped subgraph, or one whose symbolic dims all have a
    ``dynamic_shapes`` range (the profiled plan); {} (with a warning) when none can be built now."""
    ranges = None
    if not is_static(spec):
        profiles = Profiles(spec)
        unranged = [v for v in profiles.vars if v not in profiles.user]
        if unranged:
            logger.warning(
                "tvm_trt: subgraph %s has symbolic dims without a dynamic_shapes range (%s): its engines are "
                "built at run time",
                spec["symbol"],
                ", ".join(unranged),
            )
            return {}
        ranges = profiles.input_ranges(profiles.user)
    if not tensorrt.available():
        logger.warning(
            "tvm_trt: build_at_compile_time: no TensorRT builder here (%s); subgraph %s will be built on first call",
            tensorrt.INSTALL_HINT,
            spec["symbol"],
        )
        return {}
    settings = BuildSettings.from_env(spec["config"])
    spec, weights, settings = int8_calibration.int8_ahead_of_time(spec, weights, settings)
    key_settings = settings  # the key the runtime looks up: stripped or not, the same engine
    if ranges is None:
        shapes = tuple(tuple(inp["shape"]) for inp in spec["inputs"])
    else:
        shapes = tuple(r[2] for r in ranges)
    strip = CompileOptions.from_json(spec["config"]).strip_weights
    if strip is None:  # default: on where this TensorRT builds refittable plans
        strip = stripped.can_strip()
    plan = build_plan(spec, weights, shapes, dataclasses.replace(settings, strip_weights=strip), ranges)
    return {cache_key(content_hash, shapes, key_settings, ranges=ranges): plan}


def attach(blob: str, plans: Dict[str, bytes]) -> str:
    if not plans:
        return blob
    index = json.dumps([[k, len(p), isinstance(p, stripped.StrippedPlan)] for k, p in plans.items()]).encode()
    payload = index + b"\n" + b"".join(plans.values())
    return blob + SEPARATOR + base64.b64encode(cache.encode(payload)).decode("ascii")


def split(blob: str, symbol: str = "") -> Tuple[str, Dict[str, bytes]]:
    """-> (spec blob, embedded plans). A damaged plan section is reported and ignored."""
    spec_blob, _, section = blob.partition(SEPARATOR)
    if not section:
        return spec_blob, {}
    payload = cache.decode(base64.b64decode(section))
    if payload is None:
        logger.warning("tvm_trt: the plans embedded for subgraph %s are corrupted; building at run time", symbol)
        return spec_blob, {}
    head, _, data = payload.partition(b"\n")
    plans, offset = {}, 0
    for key, size, *flags in json.loads(head):
        plan = data[offset : offset + size]
        plans[key] = stripped.StrippedPlan(plan) if flags and flags[0] else plan
        offset += size
    return spec_blob, plans
