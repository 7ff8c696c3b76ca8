"""The ONNX front door: shape inference + onnxslim before TVM's importer (on by default, `simplify=False` turns it
off) never changes the numbers; TVM's importer failures come out as one line naming the model and the op."""

import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import tvm
from onnx import TensorProto, helper, numpy_helper
from tvm import relax

from tvm_trt.frontend import ONNXImportError, from_onnx


def foldable_model():
    """y = reshape(x * (a + b), [shape_of(x)[0], -1]): a constant subexpression and a Shape/Slice/Concat chain."""
    rng = np.random.default_rng(0)
    a = numpy_helper.from_array(rng.standard_normal((3, 4)).astype("float32"), "a")
    b = numpy_helper.from_array(rng.standard_normal((3, 4)).astype("float32"), "b")
    nodes = [
        *(
            helper.make_node("Constant", [], [n], value=numpy_helper.from_array(np.array(v, "int64")))
            for n, v in [("zero", [0]), ("one", [1]), ("minus_one", [-1])]
        ),
        helper.make_node("Add", ["a", "b"], ["ab"]),
        helper.make_node("Mul", ["x", "ab"], ["xab"]),
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Slice", ["shape", "zero", "one"], ["batch"]),
        helper.make_node("Concat", ["batch", "minus_one"], ["new_shape"], axis=0),
        helper.make_node("Reshape", ["xab", "new_shape"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "foldable",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 12])],
        [a, b],
    )
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8
    )  # onnxruntime reads <= 13


def run_llvm(mod, params, x):
    mod = relax.transform.BindParams("main", params)(mod)
    vm = relax.VirtualMachine(tvm.compile(mod, target="llvm"), tvm.cpu())
    return vm["main"](tvm.runtime.tensor(x)).numpy()


def op_names(mod):
    return sorted(
        {
            b.value.op.name
            for blk in mod["main"].body.blocks
            for b in blk.bindings
            if isinstance(b.value, relax.Call) and isinstance(b.value.op, tvm.ir.Op)
        }
    )


def test_simplify_folds_and_keeps_the_numbers():
    model = foldable_model()
    before = model.SerializeToString()
    x = np.random.default_rng(1).standard_normal((2, 3, 4)).astype("float32")
    (want,) = ort.InferenceSession(before, providers=["CPUExecutionProvider"]).run(None, {"x": x})

    plain_mod, plain_params = from_onnx(model, simplify=False)
    slim_mod, slim_params = from_onnx(model)  # on by default: onnxslim is installed with the onnx extra
    assert model.SerializeToString() == before
    np.testing.assert_allclose(run_llvm(plain_mod, plain_params, x), want, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(run_llvm(slim_mod, slim_params, x), want, rtol=1e-6, atol=1e-6)
    # a + b became one weight, and the shape chain is gone.
    assert sorted(plain_params) == ["a", "b"] and len(slim_params) == 1
    assert "relax.add" in op_names(plain_mod) and op_names(slim_mod) == ["relax.multiply", "relax.reshape"]


def test_simplify_applies_the_given_input_shape():
    model = foldable_model()
    for value in (model.graph.input[0], model.graph.output[0]):  # a dynamic batch in the file
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    mod, _ = from_onnx(model, shape={"x": (5, 3, 4)})
    assert [int(d) for d in mod["main"].ret_ty.shape] == [5, 12]


def test_importer_failure_is_one_line_naming_model_and_op(tmp_path):
    # ConstantOfShape of an empty shape (a scalar), as GPT-2's eager attention exports it: TVM 0.27 refuses it.
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Slice", ["shape", "zero", "zero"], ["empty"]),
        helper.make_node("ConstantOfShape", ["empty"], ["one"], value=numpy_helper.from_array(np.ones(1, "float32"))),
        helper.make_node("Mul", ["x", "one"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "scalar_fill",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
        [numpy_helper.from_array(np.zeros(1, "int64"), "zero")],
    )
    path = tmp_path / "scalar_fill.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with pytest.raises(ONNXImportError) as info:
        from_onnx(path, simplify=False, tensorrt_parser=False)  # (TensorRT's parser would take it)
    message = str(info.value)
    assert "\n" not in message, message
    assert message.startswith("TVM's ONNX importer failed on 'scalar_fill.onnx' at ConstantOfShape: "), message

    r = subprocess.run(
        [sys.executable, "-m", "tvm_trt.cli", "report", str(path), "--no-simplify", "--tensorrt-parser", "never"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 1 and f"tvm-trt report: failed: {message}" in r.stderr.splitlines(), r.stderr[-2000:]


def test_gpt2_eager_attention_imports_only_after_slimming(tmp_path):
    # transformers GPT-2, small config (2 layers, width 128), eager attention, exported by torch's tracer.
    import torch
    from transformers import GPT2Config, GPT2Model, masking_utils

    torch.manual_seed(0)
    config = GPT2Config(n_layer=2, n_embd=128, n_head=4, attn_implementation="eager")

    class LastHidden(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gpt2 = GPT2Model(config)

        def forward(self, ids):
            return self.gpt2(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=False).last_hidden_state

    ids = torch.randint(0, config.vocab_size, (1, 16))
    path = tmp_path / "gpt2.onnx"
    builder = masking_utils.sdpa_mask
    masking_utils.sdpa_mask = masking_utils.sdpa_mask_older_torch  # the default mask builder fails under the tracer
    try:
        torch.onnx.export(LastHidden().eval(), (ids,), str(path), dynamo=False, opset_version=17, input_names=["ids"])
    finally:
        masking_utils.sdpa_mask = builder

    with pytest.raises(ONNXImportError, match=r"failed on 'gpt2.onnx' at ConstantOfShape: .*simplify=True may help"):
        from_onnx(path, simplify=False, tensorrt_parser=False)
    mod, params = from_onnx(path)
    (want,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"ids": ids.numpy()})
    np.testing.assert_allclose(run_llvm(mod, params, ids.numpy()), want, rtol=1e-4, atol=1e-4)


def test_shape_operand_initializers_keep_shapes_known():
    """Shape operands given as int64 initializers (what onnxslim folds them into; Hugging Face SwinV2's
    normalisation x / expand(norm, shape)): TVM's importer, which makes initializers parameters of main, types
    the Expand with symbolic dims, the Div after it with no shape, and fails at a Reshape that infers a dim.
    Embedded as constants while importing, every shape is static; the model's own proto is left as it was."""
    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.standard_normal((4, 4)).astype("float32"), "w")
    shape = numpy_helper.from_array(np.array([2, 3, 4], "int64"), "shape")
    flat = numpy_helper.from_array(np.array([-1, 4], "int64"), "flat")
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["xw"]),
        helper.make_node("ReduceL2", ["xw"], ["norm"], axes=[2], keepdims=1),
        helper.make_node("Expand", ["norm", "shape"], ["wide"]),
        helper.make_node("Div", ["xw", "wide"], ["unit"]),
        helper.make_node("Reshape", ["unit", "flat"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "normalised",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [6, 4])],
        [weight, shape, flat],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    before = model.SerializeToString()
    mod, params = from_onnx(model, simplify=False, tensorrt_parser=False)
    assert model.SerializeToString() == before
    assert [tuple(v.shape) for v in params.values()] == [(4, 4)]  # the weight stays a parameter
    x = rng.standard_normal((2, 3, 4)).astype("float32")
    vm = relax.VirtualMachine(tvm.compile(relax.transform.BindParams("main", params)(mod), "llvm"), tvm.cpu())
    want = ort.InferenceSession(before, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.testing.assert_allclose(vm["main"](tvm.runtime.tensor(x)).numpy(), want, rtol=1e-5, atol=1e-5)
