"""The small Conv + ReLU ONNX file the command-line tests give ``tvm-trt`` (onnx only: no TVM import)."""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv_relu_onnx(path, channels: int = 4, size: int = 8, name: str = "tiny") -> str:
    """x [1, 3, size, size] -> 3x3 conv (padding 1, seeded weights) to ``channels`` -> relu; opset 13."""
    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((channels, 3, 3, 3)).astype("float32"), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["y"])]
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, channels, size, size])],
        [w],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return str(path)
