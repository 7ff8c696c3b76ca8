"""Who else sees a reference evaluation: ``tvm_trt.debug`` records each subgraph's network and inputs
while a model runs under ``TVM_TENSORRT_EXECUTOR=reference``, to compare it layer by layer."""

from __future__ import annotations

from typing import Callable, List

# each called as observer(subgraph, network spec, network, feeds) after the subgraph's evaluation
REFERENCE_OBSERVERS: List[Callable] = []


def notify(subgraph, spec, network, feeds) -> None:
    for observer in list(REFERENCE_OBSERVERS):
        observer(subgraph, spec, network, feeds)
