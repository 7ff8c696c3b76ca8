"""Offloaded functions whose network is TensorRT's own ONNX parser's (the second front door,
``frontend/trt_parser.py``): how they are marked. Their spec (``codegen/parsed_spec.py``) carries
the ONNX model instead of our op nodes, and ``network/parsed_network.py`` rebuilds the network
from it with the parser at run time."""

from __future__ import annotations

PARSED_ATTR = "tvm_trt.onnx_parser"  # on the function: JSON {"inputs": [names], "outputs": [names]}
PLACEHOLDER = "tvm_trt.parsed_onnx"  # the packed function its body calls (never run: TensorRT runs it)
SPEC_KEY = "onnx"  # in a spec: the ONNX names of its inputs and outputs


def is_parsed(func) -> bool:
    return func.attrs is not None and func.attrs.get(PARSED_ATTR) is not None
