"""Weight-stripped plans (option ``strip_weights``): a plan embedded without its weights, refitted
at load from the weights the library already holds.

At build time every weight of the network gets a name (``w0``, ``w1``, ... in the order the
converters create them) and is marked refittable; the builder (STRIP_PLAN + REFIT_INDIVIDUAL)
leaves them out of the plan. At load the network is rebuilt on the host from the same spec and
weights (no plan build: milliseconds), which yields the same names for the same arrays, and a
TensorRT Refitter puts them into the engine. The library then holds each weight once.
"""

from __future__ import annotations

import functools
from typing import Dict

import numpy as np

from ..core import tensorrt as backend


class StrippedPlan(bytes):
    """A plan built without its weights: the engine must be refitted before it runs."""


def name_weights(network, ctx) -> Dict[str, np.ndarray]:
    """Names and marks refittable every non-empty weight of the network: {name: array}."""
    named = {}
    for index, (weights, array) in enumerate(ctx.weight_list):
        if array.size == 0:
            continue
        name = f"w{index}"
        if network.set_weights_name(weights, name):  # False: no layer uses them (folded away)
            network.mark_weights_refittable(name)
            named[name] = array
    return named


def refit(engine, spec: Dict, weights) -> None:
    """Puts the weights back into a stripped engine; an error names the subgraph and what is missing."""
    from ..network.builder import build_network

    trt = backend.trt()
    builder = trt.Builder(backend.get_logger())
    network, ctx = build_network(spec, weights, builder)
    named = name_weights(network, ctx)
    refitter = trt.Refitter(engine, backend.get_logger())
    for name, array in named.items():
        if not refitter.set_named_weights(name, trt.Weights(array)):
            raise RuntimeError(f"subgraph {spec['symbol']}: TensorRT refused refit weights {name} {list(array.shape)}")
    missing = list(refitter.get_missing_weights())
    if missing or not refitter.refit_cuda_engine():
        raise RuntimeError(
            f"subgraph {spec['symbol']}: refitting the weight-stripped plan failed"
            f"{' (missing: ' + ', '.join(missing) + ')' if missing else ''}"
        )


@functools.lru_cache(maxsize=None)
def can_strip() -> bool:
    """Whether this TensorRT builds refittable, weight-stripped plans here: NVIDIA TensorRT with
    STRIP_PLAN and a Refitter (10.0 on); TensorRT-RTX only with a CUDA GPU (1.7's JIT of refittable
    graphs fails without a driver: tests/test_knobs.py shows it)."""
    trt = backend.trt() if backend.available() else None
    if trt is None or not hasattr(trt.BuilderFlag, "STRIP_PLAN") or not hasattr(trt, "Refitter"):
        return False
    if backend.flavour() == "tensorrt-rtx":
        return backend.gpu_name() != "any"
    return True
