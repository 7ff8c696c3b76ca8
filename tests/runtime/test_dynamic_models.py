"""Real models exported with dynamic axes: a BERT-base-structured encoder (dynamic batch and
sequence) and ResNet-50 (dynamic batch, height and width), random weights, one TensorRT
subgraph each, numbers equal to onnxruntime's through the reference executor at several shapes,
and the engines each TVM_TENSORRT_MULTI_ENGINE mode builds for a sequence of shapes.

BERT keeps BERT-base's widths (hidden 768, 12 heads, FFN 3072) with 2 layers instead of 12 and
a 1000-token vocabulary: every layer is the same subgraph pattern, and 12 layers take six times
the reference executor's time."""

import numpy as np
import pytest
import tvm
from tvm import relax

import tvm_trt
from tvm_trt.core import tensorrt

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.skipif(not tensorrt.available(), reason="needs a TensorRT library")

BERT_SHAPES = [(1, 16), (1, 128), (4, 77), (2, 384)]
# (batch, seq) met in order -> engines built so far, and engines held at the end, per mode
MODE_SEQUENCE = [(1, 16), (1, 128), (1, 64), (4, 128)]
MODE_EXPECTED = {"0": ([1, 2, 2, 3], 1), "1": ([1, 2, 3, 4], 4)}


def _randomize(model, seed=0):
    """Random biases and norm parameters too (fresh models have zeros / ones there, which the
    ONNX export then shares between layers)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "LayerNorm" in name or p.ndim == 1:
                p.copy_(torch.rand(p.shape, generator=gen) * 0.2 + (0.9 if "weight" in name else -0.1))
    return model.eval()


def _vm(path, **options):
    # The default front door: after onnxslim, BERT's dynamic mask arithmetic compares a shape with a
    # tensor (Equal), which TVM 0.27's ONNX importer refuses; from_onnx then imports the plain export.
    mod, params = tvm_trt.frontend.from_onnx(onnx.load(str(path)))
    pmod, _, report = tvm_trt.report.partition_with_report(mod, params, use_implicit_batch=False, **options)
    return relax.VirtualMachine(tvm_trt.build(pmod, "llvm"), tvm.cpu()), report


@pytest.fixture(scope="module")
def bert(tmp_path_factory):
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(num_hidden_layers=2, vocab_size=1000, max_position_embeddings=512)
    model = _randomize(transformers.BertModel(config))
    path = tmp_path_factory.mktemp("bert") / "bert.onnx"
    ids = torch.ones(2, 16, dtype=torch.int64)
    torch.onnx.export(
        model,
        (ids, ids),
        str(path),
        input_names=["input_ids", "attention_mask"],
        output_names=["last_hidden_state", "pooler_output"],
        opset_version=17,
        dynamo=False,
        dynamic_axes={
            "input_ids": {0: "batch", 1: "seq"},
            "attention_mask": {0: "batch", 1: "seq"},
            "last_hidden_state": {0: "batch", 1: "seq"},
            "pooler_output": {0: "batch"},
        },
    )
    vm, report = _vm(path)
    return path, vm, report


def _bert_inputs(batch, seq):
    rng = np.random.default_rng(batch * 1000 + seq)
    ids = rng.integers(0, 1000, (batch, seq)).astype("int64")
    mask = np.ones((batch, seq), "int64")
    mask[:, seq // 2 :] = rng.integers(0, 2, (batch, seq - seq // 2))  # some padding to mask
    return ids, mask


def test_bert_dynamic_batch_and_sequence(bert, monkeypatch):
    path, vm, report = bert
    assert len(report.subgraphs) == 1, str(report)
    compute = {"relax.matmul", "relax.nn.softmax", "relax.nn.layer_norm", "relax.erf", "relax.tanh"}
    assert not compute & {r.op for r in report.rejected}, str(report)
    monkeypatch.delenv("TVM_TENSORRT_MULTI_ENGINE", raising=False)
    tvm_trt.runtime.reset()
    session = ort.InferenceSession(str(path))
    for batch, seq in BERT_SHAPES:
        ids, mask = _bert_inputs(batch, seq)
        want = session.run(None, {"input_ids": ids, "attention_mask": mask})
        got = vm["main"](tvm.runtime.tensor(ids), tvm.runtime.tensor(mask))
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.numpy(), w, rtol=1e-4, atol=1e-4, err_msg=f"(batch, seq) = {(batch, seq)}")
    assert tvm_trt.runtime_stats()["engines_held"] == 1


@pytest.mark.parametrize("mode", ["0", "1"], ids=["one-engine", "engine-per-shape"])
def test_bert_engines_per_mode(bert, mode, monkeypatch):
    _, vm, _ = bert
    monkeypatch.setenv("TVM_TENSORRT_MULTI_ENGINE", mode)
    tvm_trt.runtime.reset()
    built = []
    for batch, seq in MODE_SEQUENCE:
        ids, mask = _bert_inputs(batch, seq)
        vm["main"](tvm.runtime.tensor(ids), tvm.runtime.tensor(mask))
        built.append(tvm_trt.runtime_stats()["engines_built"])
    stats = tvm_trt.runtime_stats()
    assert (built, stats["engines_held"]) == MODE_EXPECTED[mode], stats
    if mode == "0":
        (profiles,) = stats["profiles"].values()
        assert profiles == [{"batch": [1, 4, 4], "seq": [1, 128, 128]}]


def test_resnet50_dynamic_batch_and_image_size(tmp_path, monkeypatch):
    torchvision = pytest.importorskip("torchvision")
    model = _randomize(torchvision.models.resnet50())
    with torch.no_grad():  # BatchNorm statistics of random data instead of 0 / 1
        model.train()(torch.randn(8, 3, 64, 64))
    model.eval()
    path = tmp_path / "resnet50.onnx"
    torch.onnx.export(
        model,
        torch.randn(1, 3, 224, 224),
        str(path),
        input_names=["x"],
        output_names=["y"],
        dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}, "y": {0: "n"}},
        opset_version=17,
        dynamo=False,
    )
    vm, report = _vm(path)
    assert len(report.subgraphs) == 1 and report.coverage == 1.0, str(report)
    monkeypatch.delenv("TVM_TENSORRT_MULTI_ENGINE", raising=False)
    tvm_trt.runtime.reset()
    session = ort.InferenceSession(str(path))
    for shape in [(1, 3, 224, 224), (2, 3, 320, 320)]:
        x = np.random.default_rng(shape[0]).standard_normal(shape).astype("float32")
        (want,) = session.run(None, {"x": x})
        got = vm["main"](tvm.runtime.tensor(x)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3 * np.abs(want).max(), err_msg=str(shape))
    stats = tvm_trt.runtime_stats()
    assert stats["engines_built"] == 2 and stats["engines_held"] == 1
    (profiles,) = stats["profiles"].values()
    assert profiles == [{"n": [1, 2, 2], "h": [1, 320, 320], "w": [1, 320, 320]}]
