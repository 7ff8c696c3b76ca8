"""ONNX Pad, which TVM's importer emits as a TIR kernel (call_tir of topi.nn.pad, mirror_pad or
replicate_pad), is offloaded as relax.nn.pad: one subgraph with its neighbours, the numbers of
onnxruntime; kernels that are not a pad keep their call_tir in TVM."""

import numpy as np
import pytest
from onnx import TensorProto, helper

import tvm
from tvm import relax

import tvm_trt
from tvm_trt import frontend
from tvm_trt.partition import offloaded_functions, tir_kernels

from harness import assert_rejected, remaining_ops

ort = pytest.importorskip("onnxruntime")


def _padded_relu(pads, value, mode="constant", shape=(1, 3, 5, 6)):
    """x -> Relu -> Pad(pads, value, mode) -> Sigmoid: the pad sits inside a chain."""
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Pad", ["r", "p", "v"], ["q"], mode=mode),
        helper.make_node("Sigmoid", ["q"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "pad",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[
            helper.make_tensor("p", TensorProto.INT64, [len(pads)], pads),
            helper.make_tensor("v", TensorProto.FLOAT, [], [value]),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _kernel_calls(mod):
    return [c for c in remaining_ops(mod) if c.op.name == "relax.call_tir"]


def _assert_matches_onnxruntime(pmod, model, seed):
    """The partitioned module built for LLVM gives onnxruntime's numbers on a random (1, 3, 5, 6) x."""
    x = np.random.default_rng(seed).standard_normal((1, 3, 5, 6)).astype("float32")
    got = relax.VirtualMachine(tvm_trt.build(pmod, "llvm"), tvm.cpu())["main"](tvm.runtime.tensor(x)).numpy()
    want = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "pads,value",
    [
        ([0, 0, 0, 0, 0, 0, 1, 0], 1.0),  # EfficientViT's linear attention: one row of ones after
        ([0, 0, 1, 2, 0, 0, 3, 1], 0.0),  # before and after on two axes
        ([0, 1, 0, 0, 0, 2, 0, 0], -0.5),  # channels
    ],
    ids=["after-one", "both-sides", "channels"],
)
def test_constant_pad_kernel_is_offloaded(pads, value):
    model = _padded_relu(pads, value)
    mod, params = frontend.from_onnx(model, simplify=False)
    assert any(isinstance(f, tvm.tirx.PrimFunc) for f in mod.functions.values())  # what TVM's importer emits
    pmod, _ = tvm_trt.partition_for_tensorrt(mod, params, use_implicit_batch=False)
    assert _kernel_calls(pmod) == [] and len(offloaded_functions(pmod)) == 1
    _assert_matches_onnxruntime(pmod, model, seed=0)


# reflect / edge (TResNet's anti-aliased downsampling pads by reflection): the widths are split
# unevenly so that a lift that swapped before and after would show in the numbers.
@pytest.mark.parametrize(
    "pads,mode",
    [
        ([0, 0, 1, 1, 0, 0, 1, 1], "reflect"),
        ([0, 0, 1, 2, 0, 0, 3, 1], "reflect"),
        ([0, 1, 0, 4, 0, 2, 0, 0], "reflect"),  # channels, and 4 of the 6 columns mirrored
        ([0, 0, 1, 2, 0, 0, 3, 1], "edge"),
        ([0, 0, 0, 7, 0, 0, 2, 0], "edge"),  # more than the axis holds: the border repeated
    ],
    ids=["reflect-even", "reflect-uneven", "reflect-channels", "edge-uneven", "edge-wide"],
)
def test_border_pad_kernel_is_offloaded(pads, mode):
    model = _padded_relu(pads, 0.0, mode)
    mod, params = frontend.from_onnx(model, simplify=False)
    assert _kernel_calls(mod)  # what TVM's importer emits
    pmod, _ = tvm_trt.partition_for_tensorrt(mod, params, use_implicit_batch=False)
    assert _kernel_calls(pmod) == [] and len(offloaded_functions(pmod)) == 1
    _assert_matches_onnxruntime(pmod, model, seed=1)


def test_border_pad_tvm_keeps_builds_and_computes():
    """A lifted pad the predicate refuses (the batch axis with implicit batch) stays in TVM as
    relax.nn.pad, with its reason, and TVM's own build of it gives onnxruntime's numbers."""
    model = _padded_relu([1, 0, 0, 0, 1, 0, 0, 0], 0.0, "edge")
    mod, params = frontend.from_onnx(model, simplify=False)
    assert_rejected(mod, "relax.nn.pad", "touches the batch axis", use_implicit_batch=True)
    pmod, _ = tvm_trt.partition_for_tensorrt(mod, params, use_implicit_batch=True)
    assert _kernel_calls(pmod) == [] and "relax.nn.pad" in [c.op.name for c in remaining_ops(pmod)]
    _assert_matches_onnxruntime(pmod, model, seed=2)


def test_other_kernels_are_left_alone():
    """CumSum(reverse=1) imports as flip kernels around the cumsum: a one-load kernel that is no pad."""
    graph = helper.make_graph(
        [helper.make_node("CumSum", ["x", "axis"], ["y"], reverse=1)],
        "cumsum",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[helper.make_tensor("axis", TensorProto.INT64, [], [1])],
    )
    mod, _ = frontend.from_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), simplify=False)
    assert _kernel_calls(mod)
    assert tir_kernels.lift_pads(mod).same_as(mod)
