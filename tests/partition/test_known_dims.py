"""Symbolic vars computed inside the model (TVM's ONNX importer's ``match_cast(tensor_to_shape(t))``)
are bound to their values where compile-time values determine them, so the ops using them go to
TensorRT; those that depend on run-time data stay symbolic."""

import io

import numpy as np
import pytest
import tvm
from tvm import relax

import tvm_trt
from harness import remaining_ops, run_llvm, run_offloaded
from tvm_trt.partition import known_dims
from tvm_trt import partition as part


def _symbolic_vars(func) -> set:
    return {str(v) for v in relax.analysis.defined_symbolic_vars(func)}


def _computed_shape_module(shape_tensor=None):
    """An Expand whose target shape is computed (as TVM's ONNX importer emits it): the shape
    tensor is a constant here (as after folding a ``Shape -> Gather -> Concat`` chain), or
    main's second input when ``shape_tensor`` is None."""
    x = relax.Var("x", relax.TensorType([2, 1, 4], "float32"))
    params = [x]
    if shape_tensor is None:
        shape = relax.Var("shape", relax.TensorType([3], "int64"))
        params.append(shape)
    else:
        shape = relax.const(np.array(shape_tensor, "int64"))
    dims = [tvm.tirx.Var(n, "int64") for n in "abc"]
    bb = relax.BlockBuilder()
    with bb.function("main", params):
        computed = bb.emit(
            relax.Call(relax.ExternFunc("vm.builtin.tensor_to_shape"), [shape], ty_args=[relax.ShapeType(ndim=3)])
        )
        bb.match_cast(computed, relax.ShapeType(dims))
        with bb.dataflow():
            y = bb.emit(relax.op.broadcast_to(x, relax.ShapeExpr(dims)))
            z = bb.emit(relax.op.nn.relu(y))
            out = bb.emit_output(relax.op.multiply(z, relax.const(2.0, "float32")))
        bb.emit_func_output(out)
    return bb.get()


def test_vars_of_constant_shape_computations_are_bound():
    mod = known_dims.bind_known_dims(_computed_shape_module([2, 3, 4]))
    assert not _symbolic_vars(mod["main"])
    assert "tensor_to_shape" not in mod["main"].script()
    assert [int(d) for d in mod["main"].ret_ty.shape.values] == [2, 3, 4]


def test_computed_shape_goes_to_tensorrt_whole():
    mod = _computed_shape_module([2, 3, 4])
    pmod, _ = tvm_trt.partition_for_tensorrt(mod)
    assert len(part.offloaded_functions(pmod)) == 1
    assert not remaining_ops(pmod)
    x = np.random.default_rng(0).standard_normal((2, 1, 4)).astype("float32")
    (got,) = run_offloaded(pmod, [x])
    np.testing.assert_allclose(got, np.broadcast_to(np.maximum(x, 0) * 2, (2, 3, 4)), rtol=1e-6)


def test_vars_from_run_time_data_stay_symbolic():
    """A shape read from an input tensor's values is not known at compile time: nothing is
    bound, and the module still partitions and runs as TVM alone would."""
    module = _computed_shape_module()
    mod = known_dims.bind_known_dims(module)
    assert _symbolic_vars(mod["main"]) == {"a", "b", "c"}
    pmod, _ = tvm_trt.partition_for_tensorrt(module)
    x = np.random.default_rng(0).standard_normal((2, 1, 4)).astype("float32")
    shape = np.array([2, 5, 4], "int64")
    (want,) = run_llvm(module, [x, shape])
    got = relax.VirtualMachine(tvm_trt.build(pmod, "llvm"), tvm.cpu())["main"](
        tvm.runtime.tensor(x), tvm.runtime.tensor(shape)
    ).numpy()
    np.testing.assert_allclose(got, want)
    assert want.shape == (2, 5, 4)


def _llama_onnx(seq: int = 16):
    """A 2-layer Llama (RoPE, grouped-query attention, RMSNorm) with random weights, exported
    static (opset 17, TorchScript exporter), and its inputs."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from tvm_trt.testing.torch_zoo import _gpt2_mask_patch

    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=256,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        use_cache=False,
        attn_implementation="sdpa",
    )
    model = transformers.LlamaForCausalLM(config).eval()

    class Logits(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, return_dict=False)[0]

    ids = torch.randint(0, config.vocab_size, (1, seq), generator=torch.Generator().manual_seed(0))
    mask = torch.ones(1, seq, dtype=torch.int64)
    buf = io.BytesIO()
    with _gpt2_mask_patch(), torch.no_grad():  # the tracer needs the older mask builder (as GPT-2)
        torch.onnx.export(
            Logits().eval(),
            (ids, mask),
            buf,
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            opset_version=17,
            dynamo=False,
        )
    return buf.getvalue(), {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning")
def test_llama_from_static_onnx_is_one_subgraph():
    pytest.importorskip("onnxruntime")
    import onnx

    from tvm_trt import frontend
    from tvm_trt.report import partition_with_report
    from tvm_trt.testing.torch_zoo import run_onnxruntime

    data, inputs = _llama_onnx()
    mod, params = frontend.from_onnx(onnx.load_from_string(data))
    pmod, config, report = partition_with_report(mod, params)
    assert len(report.subgraphs) == 1 and report.ops_offloaded == report.ops_total, report.rejected
    ex = tvm_trt.build(pmod, "llvm", config, fallback=False)
    got = relax.VirtualMachine(ex, tvm.cpu())["main"](*[tvm.runtime.tensor(v) for v in inputs.values()]).numpy()
    np.testing.assert_allclose(got, run_onnxruntime(data, inputs), rtol=1e-4, atol=1e-4)
