"""The network of a parsed function (``core/parsed_marks.py``): TensorRT's ONNX parser on the model
bytes the spec's one weight holds, inputs and outputs renamed ``input_i`` / ``output_i`` as ours."""

from __future__ import annotations

from typing import Dict

import numpy as np

from ..core import tensorrt
from ..core.parsed_marks import SPEC_KEY


def build(spec: Dict, weights, builder, input_shapes=None):
    """-> (network, parser): the parser keeps the weights TensorRT points into alive."""
    trt = tensorrt.trt()
    flags = 0
    if tensorrt.flavour() == "tensorrt" and tensorrt.version() < (10, 0, 0):
        flags = 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, tensorrt.get_logger())
    if not parser.parse(bytes(np.asarray(weights[0]).data)):
        errors = "; ".join(parser.get_error(i).desc() for i in range(parser.num_errors)) or "no error given"
        raise RuntimeError(f"subgraph {spec['symbol']}: TensorRT's ONNX parser refused the model: {errors}")
    inputs = {network.get_input(i).name: network.get_input(i) for i in range(network.num_inputs)}
    for i, name in enumerate(spec[SPEC_KEY]["inputs"]):
        tensor = inputs[name]
        tensor.name = f"input_{i}"
        if input_shapes is not None:
            tensor.shape = tuple(input_shapes[i])
    outputs = {network.get_output(i).name: network.get_output(i) for i in range(network.num_outputs)}
    for i, name in enumerate(spec[SPEC_KEY]["outputs"]):
        outputs[name].name = f"output_{i}"
    return network, parser
