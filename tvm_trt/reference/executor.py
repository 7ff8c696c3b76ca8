"""The driver: binds inputs, orders layers, dispatches each to its family's evaluator."""

from __future__ import annotations

import heapq
from typing import Dict, List, Optional

import numpy as np

from ..core import tensorrt
from ._common import EVALUATORS, LayerEval, host_dtype


def run_network(network, inputs: Dict[str, np.ndarray], all_tensors: bool = False) -> Dict[str, np.ndarray]:
    """Evaluate `network` (trt.INetworkDefinition) on host arrays; returns {output tensor name: array}
    (with ``all_tensors``, every tensor of the network by name, for layer-by-layer comparisons).

    Input dimensions declared as -1 take their size from the given arrays; every other
    dimension must match. Arrays are converted to the input tensor's data type.
    """
    trt = tensorrt.trt()
    _refuse_control_flow(network)
    values: Dict[str, np.ndarray] = {}
    expected = set()
    for i in range(network.num_inputs):
        tensor = network.get_input(i)
        expected.add(tensor.name)
        values[tensor.name] = _bind_input(tensor, inputs)
    unknown = sorted(set(inputs) - expected)
    if unknown:
        raise ValueError(f"reference executor: no network inputs named {unknown}; inputs are {sorted(expected)}")
    for layer in _topological_order(network):
        _run_layer(trt, layer, values)
    if all_tensors:
        return values
    outputs = {}
    for i in range(network.num_outputs):
        name = network.get_output(i).name
        outputs[name] = values[name]
    return outputs


# Loops and conditionals: their bodies are subgraphs with back edges (loops) or two branches
# (conditions), which this layer-at-a-time evaluator does not model.
_CONTROL_FLOW = {
    "TRIP_LIMIT",
    "RECURRENCE",
    "ITERATOR",
    "LOOP_OUTPUT",
    "CONDITION",
    "CONDITIONAL_INPUT",
    "CONDITIONAL_OUTPUT",
}


def _refuse_control_flow(network) -> None:
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        if layer.type.name in _CONTROL_FLOW:
            raise NotImplementedError(
                f"reference executor: layer '{layer.name}' has type {layer.type.name}, which is not supported "
                "(loops and conditionals are not modelled)"
            )


def _bind_input(tensor, inputs) -> np.ndarray:
    if tensor.name not in inputs:
        raise KeyError(f"reference executor: missing value for network input '{tensor.name}'")
    declared = tuple(tensor.shape)
    array = np.asarray(inputs[tensor.name])
    if array.ndim != len(declared) or any(d >= 0 and d != a for d, a in zip(declared, array.shape)):
        raise ValueError(
            f"reference executor: input '{tensor.name}' has shape {array.shape}, network declares {declared}"
        )
    return array.astype(host_dtype(tensor.dtype, f"input '{tensor.name}'"), copy=False)


def _topological_order(network) -> List:
    """Layers ordered so producers run first.

    Network order is usually topological, but not after `set_input` rewires a layer to a
    tensor made later (e.g. a constant shape added after the shuffle that reads it).
    """
    layers = [network.get_layer(i) for i in range(network.num_layers)]
    producer = {}
    for index, layer in enumerate(layers):
        for j in range(layer.num_outputs):
            producer[layer.get_output(j).name] = index
    consumers: Dict[int, List[int]] = {i: [] for i in range(len(layers))}
    pending = []
    for index, layer in enumerate(layers):
        deps = set()
        for j in range(layer.num_inputs):
            tensor = layer.get_input(j)
            if tensor is not None and tensor.name in producer and producer[tensor.name] != index:
                deps.add(producer[tensor.name])
        for dep in deps:
            consumers[dep].append(index)
        pending.append(len(deps))
    ready = [i for i, n in enumerate(pending) if n == 0]
    heapq.heapify(ready)  # smallest index first keeps the network's own order where possible
    order = []
    while ready:
        index = heapq.heappop(ready)
        order.append(layers[index])
        for consumer in consumers[index]:
            pending[consumer] -= 1
            if pending[consumer] == 0:
                heapq.heappush(ready, consumer)
    if len(order) != len(layers):
        raise ValueError("reference executor: the network has a cycle (loops are not supported)")
    return order


def _run_layer(trt, layer, values: Dict[str, np.ndarray]) -> None:
    # Read the LayerType before downcasting: several subclasses shadow `type` with their own
    # enum (IActivationLayer.type is an ActivationType, IPoolingLayer.type a PoolingType).
    kind = layer.type.name
    entry = EVALUATORS.get(kind)
    if entry is None:
        raise NotImplementedError(f"reference executor: layer '{layer.name}' has type {kind}, which is not supported")
    class_name, evaluate = entry
    layer.__class__ = getattr(trt, class_name)
    ins: List[Optional[np.ndarray]] = []
    for j in range(layer.num_inputs):
        tensor = layer.get_input(j)
        if tensor is None:  # optional input left unset
            ins.append(None)
        elif tensor.name not in values:
            raise ValueError(
                f"reference executor: layer '{layer.name}' reads tensor '{tensor.name}' before it is produced"
            )
        else:
            ins.append(values[tensor.name])
    where = f"layer '{layer.name}' of type {kind}: output"
    out_dtypes = [host_dtype(layer.get_output(j).dtype, where) for j in range(layer.num_outputs)]
    node = LayerEval(layer, kind, ins, out_dtypes)
    results = evaluate(node)
    if isinstance(results, np.ndarray) or np.isscalar(results):
        results = [results]
    for j, (result, dtype) in enumerate(zip(results, out_dtypes)):
        name = layer.get_output(j).name
        if name in values:  # values are keyed by name, so names must be unique
            raise ValueError(f"reference executor: tensor name '{name}' is used more than once")
        result = np.asarray(result).astype(dtype, copy=False)
        _check_shape(layer, kind, j, result.shape)
        values[name] = result


def _check_shape(layer, kind: str, index: int, shape) -> None:
    """The result must have the dims TensorRT itself inferred for the output (where known):
    a difference means this evaluator and TensorRT disagree about the layer."""
    try:
        declared = tuple(layer.get_output(index).shape)
    except RuntimeError as e:  # TensorRT cannot infer it: the layer is invalid (its log says why)
        raise ValueError(f"reference executor: layer '{layer.name}' of type {kind} is invalid: {e}") from None
    if len(declared) != len(shape) or any(d >= 0 and d != s for d, s in zip(declared, shape)):
        raise ValueError(
            f"reference executor: layer '{layer.name}' of type {kind} computed output {index} with shape "
            f"{tuple(shape)}, TensorRT infers {declared}"
        )
