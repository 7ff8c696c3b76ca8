"""Randomly initialised torchvision / Hugging Face models, exported to ONNX, for tests and benchmarks.

Nothing is downloaded: every model is built from its code with random weights, then made
numerically honest ("random-init hygiene"): BatchNorm running statistics are calibrated on
random data, norm affine parameters are randomised (so they are not the identity), and
torchvision ViT's all-zero classification head is re-initialised (else every output is 0).

Each model is exported with ``torch.onnx.export(..., dynamo=False, opset_version=17)``;
``dynamic_batch=True`` marks axis 0 of every input and output symbolic (named ``batch``).
:func:`build` / :func:`export` also take the names of :mod:`torch_zoo_families` (YOLO, timm, CLIP,
T5, speech, SegFormer, decoder-only, diffusers, video, MaxViT; small fixed configs).
Also here: :func:`trt_parser_coverage`, TensorRT's own ONNX parser's view of a model (what
ONNX Runtime's TensorRT provider would offload), the yardstick the partition is held to.
"""

from __future__ import annotations

import dataclasses
import io
from typing import Dict, List, Optional

import numpy as np

VISION = [
    "resnet50",
    "mobilenet_v3_large",
    "efficientnet_b0",
    "convnext_tiny",
    "vit_b_16",
    "swin_t",
    "deeplabv3_mobilenet_v3_large",
]
TEXT = ["bert", "distilbert", "gpt2"]
MODELS = VISION + TEXT


@dataclasses.dataclass
class Exported:
    name: str
    onnx: object  # onnx.ModelProto
    inputs: Dict[str, np.ndarray]  # example inputs (the export's batch)
    module: object  # the torch module (eval mode)
    dynamic_batch: bool = False


# ------------------------------------------------------------------------------------ hygiene
def _randomise_norms(model, generator) -> None:
    import torch

    for m in model.modules():
        if (
            isinstance(m, (torch.nn.BatchNorm2d, torch.nn.LayerNorm, torch.nn.GroupNorm))
            and getattr(m, "weight", None) is not None
        ):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5, generator=generator)
                if m.bias is not None:
                    m.bias.uniform_(-0.2, 0.2, generator=generator)


def _calibrate_batchnorm(model, example, generator, steps: int = 2) -> None:
    """Running statistics from random batches (momentum None = cumulative average)."""
    import torch

    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    if not bns:
        return
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        for _ in range(steps):
            model(torch.randn((4,) + tuple(example.shape[1:]), generator=generator))
    model.eval()


# ----------------------------------------------------------------------------------- builders
def _vision(name: str, image: int, generator):
    import torch

    import torchvision

    kwargs = {"weights": None}
    if name == "vit_b_16":
        kwargs["image_size"] = image
    if name.startswith("deeplabv3"):
        kwargs.update(weights_backbone=None, aux_loss=False)
    model = getattr(torchvision.models.segmentation if name.startswith("deeplabv3") else torchvision.models, name)(
        **kwargs
    )
    _randomise_norms(model, generator)
    if name == "vit_b_16":
        with torch.no_grad():
            model.heads.head.weight.normal_(0, 0.02, generator=generator)
            model.heads.head.bias.uniform_(-0.1, 0.1, generator=generator)
    x = torch.randn(1, 3, image, image, generator=generator)
    _calibrate_batchnorm(model, x, generator)
    return model.eval(), {"x": x}


def _first_output(model, names):
    """Wraps models returning ModelOutputs so that ONNX sees one tensor output; positional
    inputs are passed on by name (GPT-2's second positional argument is the KV cache)."""
    import torch

    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, *args):
            return self.inner(**dict(zip(names, args)), return_dict=False)[0]

    return Wrapped().eval()


def _text(name: str, seq: int, layers: Optional[int], generator):
    import torch

    import transformers

    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
    if name == "bert":
        config = transformers.BertConfig(num_hidden_layers=layers or 12, attn_implementation="eager")
        model = transformers.BertModel(config, add_pooling_layer=False)
    elif name == "distilbert":
        config = transformers.DistilBertConfig(n_layers=layers or 6, attn_implementation="eager")
        model = transformers.DistilBertModel(config)
    elif name == "gpt2":
        config = transformers.GPT2Config(n_layer=layers or 12, attn_implementation="sdpa", use_cache=False)
        model = transformers.GPT2Model(config)
    else:
        raise ValueError(f"unknown text model {name!r}")
    _randomise_norms(model, generator)
    vocab = model.config.vocab_size
    ids = torch.randint(0, vocab, (1, seq), generator=generator)
    mask = torch.ones(1, seq, dtype=torch.int64)
    mask[:, seq - seq // 4 :] = 0  # padding: the mask arithmetic must be exercised
    # GPT-2 too: without a mask its mask builder derives one from position ids, which the
    # tracer cannot follow ("Unsupported value kind: Tensor").
    inputs = {"input_ids": ids, "attention_mask": mask}
    return _first_output(model.eval(), list(inputs)), inputs


def _gpt2_mask_patch():
    """GPT-2's default mask builder fails under the ONNX tracer; the older-torch one works."""
    import contextlib

    @contextlib.contextmanager
    def patch():
        from transformers import masking_utils

        saved = dict(masking_utils.ALL_MASK_ATTENTION_FUNCTIONS._global_mapping)
        masking_utils.ALL_MASK_ATTENTION_FUNCTIONS._global_mapping["sdpa"] = masking_utils.sdpa_mask_older_torch
        try:
            yield
        finally:
            masking_utils.ALL_MASK_ATTENTION_FUNCTIONS._global_mapping.clear()
            masking_utils.ALL_MASK_ATTENTION_FUNCTIONS._global_mapping.update(saved)

    return patch()


def _mha_fastpath(enabled: bool):
    import contextlib

    import torch

    @contextlib.contextmanager
    def switch():
        saved = torch.backends.mha.get_fastpath_enabled()
        torch.backends.mha.set_fastpath_enabled(enabled)
        try:
            yield
        finally:
            torch.backends.mha.set_fastpath_enabled(saved)

    return switch()


def build(name: str, *, image: int = 224, seq: int = 128, layers: Optional[int] = None, seed: int = 0):
    """``(torch module in eval mode, {input name: example tensor})`` of model ``name``."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    from . import torch_zoo_families

    if name in torch_zoo_families.BUILDERS:  # small fixed configs: the size options do not apply
        return torch_zoo_families.build(name, generator)
    if name in VISION:
        return _vision(name, image, generator)
    return _text(name, seq, layers, generator)


def export(
    name: str,
    *,
    image: int = 224,
    seq: int = 128,
    layers: Optional[int] = None,
    seed: int = 0,
    dynamic_batch: bool = False,
) -> Exported:
    """Build ``name`` and export it to ONNX (opset 17, TorchScript exporter)."""
    import onnx
    import torch

    model, inputs = build(name, image=image, seq=seq, layers=layers, seed=seed)
    names = list(inputs)
    axes = {n: {0: "batch"} for n in names + ["out"]} if dynamic_batch else None
    buf = io.BytesIO()
    from . import torch_zoo_families

    patch = _gpt2_mask_patch() if name == "gpt2" else torch_zoo_families.export_context(name)
    # MultiheadAttention's fused fast path (taken in eval mode) has no ONNX export.
    with patch, torch.no_grad(), _mha_fastpath(False):
        torch.onnx.export(
            model,
            tuple(inputs.values()),
            buf,
            input_names=names,
            output_names=["out"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    return Exported(
        name, onnx.load_from_string(buf.getvalue()), {k: v.numpy() for k, v in inputs.items()}, model, dynamic_batch
    )


def import_onnx(model, **kwargs):
    """``tvm_trt.frontend.from_onnx`` of an export with the front door's defaults: slimmed (shape
    inference + onnxslim; Swin-T needs it), or the plain file where TVM's importer fails on the
    slimmed graph (DistilBERT, dynamic-batch ResNet-50 / BERT)."""
    import warnings

    from .. import frontend

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*without simplification instead")
        return frontend.from_onnx(model, **kwargs)


def run_onnxruntime(model, inputs: Dict[str, np.ndarray]) -> np.ndarray:
    import onnxruntime as ort

    data = model if isinstance(model, bytes) else model.SerializeToString()
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(None, inputs)[0]


# ------------------------------------------------------------------------ TensorRT's own parser
@dataclasses.dataclass
class ParserCoverage:
    nodes: int  # ONNX nodes in the graph
    subgraphs: int  # supported groups ONNX Runtime's TensorRT provider would offload
    nodes_supported: int

    @property
    def coverage(self) -> float:
        return self.nodes_supported / self.nodes if self.nodes else 1.0


def trt_parser_coverage(model) -> ParserCoverage:
    """Subgraphs and node coverage of TensorRT's ONNX parser (``supports_model_v2``): the groups
    it reports supported, as ONNX Runtime's TensorRT provider partitions with them."""
    from ..core import tensorrt

    trt = tensorrt.trt()
    data = model if isinstance(model, bytes) else model.SerializeToString()
    logger = tensorrt.get_logger()
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # held: the parser keeps a pointer to it
    parser = trt.OnnxParser(network, logger)
    parser.supports_model_v2(data)
    if isinstance(model, bytes):
        import onnx

        model = onnx.load_from_string(model)
    total = len(model.graph.node)
    groups: List[List[int]] = []
    for i in range(parser.num_subgraphs):
        if parser.is_subgraph_supported(i):
            groups.append(list(parser.get_subgraph_nodes(i)))
    supported = sum(len(g) for g in groups)
    return ParserCoverage(nodes=total, subgraphs=len(groups), nodes_supported=supported)
