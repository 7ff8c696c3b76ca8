"""More model families for :mod:`torch_zoo`: ultralytics YOLO, timm backbones (hybrid conv/attention
ones included), Hugging Face CLIP / T5 / speech / SegFormer / vision transformers / decoder-only
language models, diffusers UNet, VAE and DiT, torchvision CNNs and video networks, MaxViT.

Every model is built from code with a small config and random weights (nothing is downloaded), so
that its whole graph stays in a test on a 2-core machine; :mod:`.hygiene` makes random weights
numerically honest. Builders by family: :mod:`.vision`, :mod:`.hf`, :mod:`.diffusion`.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Dict, List, Tuple

from .. import torch_zoo
from . import diffusion, hf, vision
from .hygiene import hygiene  # noqa: F401  (re-exported)

# family -> model names; BUILDERS below has one entry per name. One model per class of risk (a block
# design, an attention or position scheme, a head): the tests run each, so a second model of the same
# classes only costs time (survey.py keeps those, and bench/family_survey.py runs them).
FAMILIES: Dict[str, List[str]] = {
    "ultralytics": ["yolo11n", "yolov8n_seg"],
    "timm": [
        "timm_mobilevit_xxs",
        "timm_efficientformerv2_s0",
        "timm_coatnet_nano",
        "timm_efficientvit_b0",
        "timm_levit_128s",
        "timm_nfnet",
        "timm_tresnet",  # reflect pads (anti-aliased downsampling): TIR kernels lifted to relax.nn.pad
    ],
    "torchvision_cnn": ["googlenet", "shufflenet_v2", "raft_small"],
    "clip": ["clip_text", "clip_vision"],
    "t5": ["t5_encoder"],
    "text_encoders": ["deberta_v2", "xlm_roberta"],
    "speech": ["wav2vec2", "whisper_encoder"],
    "segformer": ["segformer"],
    "hf_vision": ["swinv2", "dinov2", "detr", "vit_mae"],
    "decoder_only": ["qwen2", "phi3", "opt"],
    "diffusers": ["unet2d_condition", "autoencoder_kl", "dit"],
    "video": ["video_resnet_mixed"],
    "maxvit": ["maxvit"],
}
MODELS = [name for names in FAMILIES.values() for name in names]
DECODERS = set(FAMILIES["decoder_only"])

from .survey import SURVEY, SURVEY_BUILDERS, SURVEY_DECODERS  # noqa: E402


def family_of(name: str) -> str:
    """The tested family of ``name``, else its survey family."""
    return next(f for f, names in [*FAMILIES.items(), *SURVEY.items()] if name in names)


BUILDERS: Dict[str, Callable] = {
    "yolo11n": vision.ultralytics("yolo11n.yaml"),
    "timm_mobilevit_xxs": vision.timm("mobilevit_xxs"),
    "timm_efficientformerv2_s0": vision.timm("efficientformerv2_s0", img_size=64),
    "timm_coatnet_nano": vision.timm("coatnet_nano_rw_224", img_size=64),
    "timm_efficientvit_b0": vision.timm("efficientvit_b0"),
    "timm_levit_128s": vision.timm("levit_128s", img_size=64),
    "clip_text": hf.hf(
        hf.transformers_model(
            "CLIPTextModel", "CLIPTextConfig", **hf.SMALL_TEXT, max_position_embeddings=32, attn_implementation="eager"
        ),
        hf.tokens(mask=False),
    ),
    "clip_vision": hf.hf(
        hf.transformers_model(
            "CLIPVisionModel",
            "CLIPVisionConfig",
            intermediate_size=128,
            **hf.SMALL_VISION,
        ),
        hf.pixels(32),
    ),
    "t5_encoder": hf.hf(
        hf.transformers_model(
            "T5EncoderModel", "T5Config", d_model=64, d_kv=16, d_ff=128, num_layers=2, num_heads=4, vocab_size=1000
        ),
        hf.tokens(),
    ),
    "wav2vec2": hf.hf(hf.wav2vec2(), hf.audio),
    "whisper_encoder": hf.hf(hf.whisper_encoder, hf.mel),
    "segformer": hf.hf(
        hf.transformers_model(
            "SegformerForSemanticSegmentation",
            "SegformerConfig",
            hidden_sizes=[16, 32, 64, 128],
            depths=[1, 1, 1, 1],
            num_attention_heads=[1, 2, 2, 4],
            decoder_hidden_size=64,
            num_labels=10,
        ),
        hf.pixels(64),
    ),
    "qwen2": hf.decoder("Qwen2Model", "Qwen2Config"),
    "phi3": hf.decoder("Phi3Model", "Phi3Config", pad_token_id=0),
    "unet2d_condition": diffusion.diffusers_model("unet"),
    "autoencoder_kl": diffusion.diffusers_model("vae"),
    "video_resnet_mixed": vision.video_mixed,
    "maxvit": vision.maxvit,
}
BUILDERS.update(SURVEY_BUILDERS)
assert set(MODELS) <= set(BUILDERS), set(MODELS) - set(BUILDERS)


def build(name: str, generator) -> Tuple[object, Dict[str, object]]:
    """``(torch module in eval mode, {input name: example tensor})`` of family model ``name``."""
    return BUILDERS[name](generator)


def export_context(name: str):
    """What the ONNX export of ``name`` needs around it: decoder-only models build their causal mask
    with the builder the tracer can follow (as GPT-2)."""
    return torch_zoo._gpt2_mask_patch() if name in DECODERS | SURVEY_DECODERS else contextlib.nullcontext()
