"""TensorRT's own ONNX parser as a second front door: a model TVM's importer refuses runs whole
as one TensorRT function (compiled, exported, loaded, run through the reference executor)."""

import io
import re
import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

import tvm  # noqa: E402
from tvm import relax  # noqa: E402

import tvm_trt  # noqa: E402
from tvm_trt import frontend, partition  # noqa: E402
from tvm_trt.frontend import ONNXImportError  # noqa: E402


def _clip_text_encoder():
    """A CLIP-style text encoder (pooled output: argmax over the ids, a Gather) with random
    weights; TVM's importer refuses the plain export ("Reshape requires the input new shape to
    be Shape")."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.CLIPTextConfig(
        vocab_size=128,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=16,
    )
    model = transformers.CLIPTextModel(config).eval()

    class Pooled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, input_ids):
            return self.inner(input_ids=input_ids, return_dict=False)[1]

    ids = torch.randint(0, config.vocab_size, (2, 16), generator=torch.Generator().manual_seed(0))
    buf = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pooled().eval(),
            (ids,),
            buf,
            input_names=["input_ids"],
            output_names=["pooled"],
            opset_version=17,
            dynamo=False,
        )
    return onnx.load_from_string(buf.getvalue()), {"input_ids": ids.numpy()}


def test_a_model_tvm_refuses_runs_through_the_parser(tmp_path):
    pytest.importorskip("onnxruntime")
    from tvm_trt.testing.torch_zoo import run_onnxruntime

    model, inputs = _clip_text_encoder()
    with pytest.raises(ONNXImportError, match="Reshape"):
        frontend.from_onnx(model, simplify=False, tensorrt_parser=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mod, params = frontend.from_onnx(model, simplify=False)
    said = [str(w.message) for w in caught if "TensorRT's ONNX parser takes" in str(w.message)]
    assert len(said) == 1 and "at Reshape" in said[0] and "no TVM fallback" in said[0], said
    pmod, config = tvm_trt.partition_for_tensorrt(mod, params)
    assert list(partition.offloaded_functions(pmod)) == ["tensorrt_0"]
    path = str(tmp_path / "clip_text.so")
    tvm_trt.build(pmod, "llvm", config).export_library(path)
    lib = tvm.runtime.load_module(path)
    built_before = tvm_trt.runtime_stats()["engines_built"]
    got = relax.VirtualMachine(lib, tvm.cpu())["main"](tvm.runtime.tensor(inputs["input_ids"])).numpy()
    assert tvm_trt.runtime_stats()["engines_built"] == built_before + 1  # a plan built lazily, at the first call
    np.testing.assert_allclose(got, run_onnxruntime(model, inputs), rtol=1e-4, atol=1e-4)
    # the model's bytes are the library's weights, once
    model_bytes = len(model.SerializeToString())
    assert model_bytes < (tmp_path / "clip_text.so").stat().st_size < 2 * model_bytes + (1 << 20)


def test_a_parsed_function_builds_without_the_fallback():
    """fallback=False leaves main's call of the parsed function as imported (no rewrite normalises it): the
    stub still takes its output arguments, from the function's declared result."""
    pytest.importorskip("onnxruntime")
    from tvm_trt.testing.torch_zoo import run_onnxruntime

    model, inputs = _clip_text_encoder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mod, params = frontend.from_onnx(model, simplify=False)
    pmod, config = tvm_trt.partition_for_tensorrt(mod, params)
    vm = relax.VirtualMachine(tvm_trt.build(pmod, "llvm", config, fallback=False), tvm.cpu())
    got = vm["main"](tvm.runtime.tensor(inputs["input_ids"])).numpy()
    np.testing.assert_allclose(got, run_onnxruntime(model, inputs), rtol=1e-4, atol=1e-4)


def _relu_custom_relu():
    """Relu -> an op of an unknown domain -> Relu: neither TVM's importer nor the parser takes it all."""
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("Relu", ["x"], ["a"]),
        helper.make_node("Mystery", ["a"], ["b"], domain="acme"),
        helper.make_node("Relu", ["b"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "partly",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("acme", 1)])


def test_a_model_the_parser_takes_in_parts_says_so_in_one_line():
    with pytest.raises(ONNXImportError) as info:
        frontend.from_onnx(_relu_custom_relu(), simplify=False)
    message = str(info.value)
    assert "\n" not in message and "Mystery" in message
    assert re.search(
        r"TensorRT's ONNX parser does not take it whole either \(\d+ supported groups?, \d of 3 nodes\)$", message
    ), message
