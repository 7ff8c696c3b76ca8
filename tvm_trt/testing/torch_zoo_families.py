"""More model families for :mod:`torch_zoo`: ultralytics YOLO, timm backbones (hybrid conv/attention
ones included), Hugging Face CLIP / T5 / speech / SegFormer / decoder-only language models,
diffusers UNet and VAE, torchvision video networks and MaxViT.

Every model is built from code with a small config and random weights (nothing is downloaded), so
that its whole graph stays in a test on a 2-core machine. Random-init hygiene, generic over classes:
norm layers get random affine parameters, BatchNorm statistics are calibrated on random data, and
parameters that initialise to a constant (zero biases and heads, 1e-6 layer scales) are randomised,
so that no branch of the model is numerically invisible.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Dict, List, Tuple

from . import torch_zoo

# family -> model names; BUILDERS below has one entry per name.
FAMILIES: Dict[str, List[str]] = {
    "ultralytics": ["yolov8n", "yolo11n"],
    "timm": [
        "timm_convnext_atto",
        "timm_mobilevit_xxs",
        "timm_efficientformerv2_s0",
        "timm_coatnet_nano",
        "timm_efficientvit_b0",
        "timm_levit_128s",
    ],
    "clip": ["clip_text", "clip_vision"],
    "t5": ["t5_encoder"],
    "speech": ["wav2vec2", "whisper_encoder"],
    "segformer": ["segformer"],
    "decoder_only": ["qwen2", "mistral", "phi3"],
    "diffusers": ["unet2d_condition", "autoencoder_kl"],
    "video": ["r3d_18", "mc3_18", "r2plus1d_18"],
    "maxvit": ["maxvit"],
}
MODELS = [name for names in FAMILIES.values() for name in names]
DECODERS = set(FAMILIES["decoder_only"])


def family_of(name: str) -> str:
    return next(f for f, names in FAMILIES.items() if name in names)


# ------------------------------------------------------------------------------------ hygiene
_NORM_CLASS_SUFFIXES = ("Norm", "Norm1d", "Norm2d", "Norm3d", "LayerNorm2d")


def _is_norm(module) -> bool:
    name = type(module).__name__
    return name.endswith(_NORM_CLASS_SUFFIXES) or name.endswith("RMSNorm")


def _hygiene(model, inputs: Dict[str, object], generator) -> None:
    """Random norm affine parameters, de-constant parameters, calibrated BatchNorm statistics."""
    import torch

    with torch.no_grad():
        for m in model.modules():
            if _is_norm(m):
                weight, bias = getattr(m, "weight", None), getattr(m, "bias", None)
                if isinstance(weight, torch.nn.Parameter):
                    weight.uniform_(0.5, 1.5, generator=generator)
                if isinstance(bias, torch.nn.Parameter):
                    bias.uniform_(-0.2, 0.2, generator=generator)
        for name, p in model.named_parameters():
            if p.numel() > 1 and p.dtype.is_floating_point and bool((p == p.flatten()[0]).all()):
                # A layer scale of 1e-6 (or 0) hides its branch; a zero bias or head hides nothing but is
                # a weaker check of the conversion than a random one.
                scale = "gamma" in name.split(".")[-1] or "scale" in name.split(".")[-1]
                p.uniform_(*((0.5, 1.5) if scale else (-0.1, 0.1)), generator=generator)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if bns:
        for m in bns:
            m.reset_running_stats()
            m.momentum = None  # cumulative average
        model.train()
        with torch.no_grad():
            for _ in range(2):  # batches of 4: a BatchNorm1d over pooled features needs > 1 value per channel
                model(
                    **{
                        k: torch.randn((4,) + tuple(v.shape[1:]), generator=generator)
                        if v.is_floating_point()
                        else v.repeat(4, *[1] * (v.dim() - 1))
                        for k, v in inputs.items()
                    }
                )
    model.eval()


def _seed_global(generator) -> None:
    """Hugging Face / diffusers / timm initialise from the global generator."""
    import torch

    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))


# ----------------------------------------------------------------------------------- builders
def _image(generator, size: int = 64, frames: int = 0):
    import torch

    shape = (1, 3, frames, size, size) if frames else (1, 3, size, size)
    return {"x": torch.randn(shape, generator=generator)}


def _ultralytics(cfg: str):
    def build(generator):
        import os

        os.environ.setdefault("YOLO_OFFLINE", "1")
        from ultralytics.nn.tasks import DetectionModel

        _seed_global(generator)
        model = DetectionModel(cfg, ch=3, nc=80, verbose=False)
        head = model.model[-1]
        head.export, head.format = True, "onnx"  # one output tensor: (1, 4 + classes, anchors)
        inputs = _image(generator)
        _hygiene(model, inputs, generator)
        return model.eval(), inputs

    return build


def _timm(name: str, **kwargs):
    def build(generator):
        import timm

        _seed_global(generator)
        model = timm.create_model(name, pretrained=False, **kwargs)
        size = kwargs.get("img_size", 64)
        inputs = _image(generator, size)
        _hygiene(model, inputs, generator)
        return model.eval(), inputs

    return build


def _hf(make: Callable, inputs_of: Callable):
    """A Hugging Face model from ``make()``, its ModelOutput reduced to the first tensor."""

    def build(generator):
        _seed_global(generator)
        model = make()
        inputs = inputs_of(model.config, generator)
        _hygiene(model, inputs, generator)
        return torch_zoo._first_output(model.eval(), list(inputs)), inputs

    return build


def _tokens(seq: int = 16, mask: bool = True):
    def inputs_of(config, generator):
        import torch

        ids = torch.randint(0, config.vocab_size, (1, seq), generator=generator)
        if not mask:
            return {"input_ids": ids}
        attention = torch.ones(1, seq, dtype=torch.int64)
        attention[:, seq - seq // 4 :] = 0  # padding: the mask arithmetic must be exercised
        return {"input_ids": ids, "attention_mask": attention}

    return inputs_of


def _pixels(size: int):
    def inputs_of(config, generator):
        import torch

        return {"pixel_values": torch.randn(1, 3, size, size, generator=generator)}

    return inputs_of


_SMALL_TEXT = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128, vocab_size=1000)


def _transformers(cls: str, config: str, **kwargs):
    def make():
        import transformers

        return getattr(transformers, cls)(getattr(transformers, config)(**kwargs))

    return make


def _decoder(cls: str, config: str, **kwargs):
    return _hf(
        _transformers(
            cls,
            config,
            **_SMALL_TEXT,
            num_key_value_heads=2,
            max_position_embeddings=64,
            attn_implementation="sdpa",
            use_cache=False,
            **kwargs,
        ),
        _tokens(),
    )


def _wav2vec2():
    return _transformers(
        "Wav2Vec2Model",
        "Wav2Vec2Config",
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        conv_dim=(32, 32, 32),
        conv_kernel=(10, 3, 3),
        conv_stride=(5, 2, 2),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
        feat_extract_norm="group",
        do_stable_layer_norm=False,
        attn_implementation="eager",
    )


def _audio(config, generator):
    import torch

    return {"input_values": torch.randn(1, 1600, generator=generator)}


def _whisper_encoder():
    import transformers

    config = transformers.WhisperConfig(
        d_model=64,
        encoder_layers=2,
        encoder_attention_heads=2,
        decoder_layers=1,
        decoder_attention_heads=2,
        encoder_ffn_dim=128,
        decoder_ffn_dim=128,
        num_mel_bins=16,
        max_source_positions=32,
        vocab_size=1000,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=1,
        attn_implementation="eager",
    )
    return transformers.WhisperModel(config).get_encoder()


def _mel(config, generator):
    import torch

    return {"input_features": torch.randn(1, config.num_mel_bins, 2 * config.max_source_positions, generator=generator)}


def _diffusers(kind: str):
    def build(generator):
        import torch

        import diffusers

        _seed_global(generator)
        if kind == "unet":
            model = diffusers.UNet2DConditionModel(
                sample_size=8,
                in_channels=4,
                out_channels=4,
                layers_per_block=1,
                block_out_channels=(32, 64),
                down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
                cross_attention_dim=32,
                attention_head_dim=8,
                norm_num_groups=8,
            )
            inputs = {
                "sample": torch.randn(1, 4, 8, 8, generator=generator),
                "timestep": torch.tensor([10], dtype=torch.int64),
                "encoder_hidden_states": torch.randn(1, 8, 32, generator=generator),
            }
        else:
            model = diffusers.AutoencoderKL(
                in_channels=3,
                out_channels=3,
                latent_channels=4,
                block_out_channels=(16, 32),
                layers_per_block=1,
                down_block_types=("DownEncoderBlock2D",) * 2,
                up_block_types=("UpDecoderBlock2D",) * 2,
                norm_num_groups=8,
                sample_size=16,
            )
            inputs = {"sample": torch.randn(1, 3, 16, 16, generator=generator)}
        _hygiene(model, {}, generator)
        return torch_zoo._first_output(model.eval(), list(inputs)), inputs

    return build


def _video(name: str):
    def build(generator):
        import torchvision

        _seed_global(generator)
        model = getattr(torchvision.models.video, name)(weights=None)
        inputs = _image(generator, 32, frames=4)
        _hygiene(model, inputs, generator)
        return model.eval(), inputs

    return build


def _maxvit(generator):
    from torchvision.models.maxvit import MaxVit

    _seed_global(generator)
    # torchvision's MaxViT blocks (MBConv + block and grid attention) at a small width and two stages;
    # partition 2 so that 64x64 images tile every stage (64 -> 32 stem -> 16, 8).
    model = MaxVit(
        input_size=(64, 64),
        stem_channels=16,
        partition_size=2,
        block_channels=[16, 32],
        block_layers=[1, 1],
        head_dim=8,
        stochastic_depth_prob=0.0,
        num_classes=100,
    )
    inputs = _image(generator)
    _hygiene(model, inputs, generator)
    return model.eval(), inputs


BUILDERS: Dict[str, Callable] = {
    "yolov8n": _ultralytics("yolov8n.yaml"),
    "yolo11n": _ultralytics("yolo11n.yaml"),
    "timm_convnext_atto": _timm("convnext_atto"),
    "timm_mobilevit_xxs": _timm("mobilevit_xxs"),
    "timm_efficientformerv2_s0": _timm("efficientformerv2_s0", img_size=64),
    "timm_coatnet_nano": _timm("coatnet_nano_rw_224", img_size=64),
    "timm_efficientvit_b0": _timm("efficientvit_b0"),
    "timm_levit_128s": _timm("levit_128s", img_size=64),
    "clip_text": _hf(
        _transformers(
            "CLIPTextModel", "CLIPTextConfig", **_SMALL_TEXT, max_position_embeddings=32, attn_implementation="eager"
        ),
        _tokens(mask=False),
    ),
    "clip_vision": _hf(
        _transformers(
            "CLIPVisionModel",
            "CLIPVisionConfig",
            hidden_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=128,
            image_size=32,
            patch_size=8,
            attn_implementation="eager",
        ),
        _pixels(32),
    ),
    "t5_encoder": _hf(
        _transformers(
            "T5EncoderModel", "T5Config", d_model=64, d_kv=16, d_ff=128, num_layers=2, num_heads=4, vocab_size=1000
        ),
        _tokens(),
    ),
    "wav2vec2": _hf(_wav2vec2(), _audio),
    "whisper_encoder": _hf(_whisper_encoder, _mel),
    "segformer": _hf(
        _transformers(
            "SegformerForSemanticSegmentation",
            "SegformerConfig",
            hidden_sizes=[16, 32, 64, 128],
            depths=[1, 1, 1, 1],
            num_attention_heads=[1, 2, 2, 4],
            decoder_hidden_size=64,
            num_labels=10,
        ),
        _pixels(64),
    ),
    "qwen2": _decoder("Qwen2Model", "Qwen2Config"),
    "mistral": _decoder("MistralModel", "MistralConfig", sliding_window=None),
    "phi3": _decoder("Phi3Model", "Phi3Config", pad_token_id=0),
    "unet2d_condition": _diffusers("unet"),
    "autoencoder_kl": _diffusers("vae"),
    "r3d_18": _video("r3d_18"),
    "mc3_18": _video("mc3_18"),
    "r2plus1d_18": _video("r2plus1d_18"),
    "maxvit": _maxvit,
}
assert set(BUILDERS) == set(MODELS), set(BUILDERS) ^ set(MODELS)


def build(name: str, generator) -> Tuple[object, Dict[str, object]]:
    """``(torch module in eval mode, {input name: example tensor})`` of family model ``name``."""
    return BUILDERS[name](generator)


def export_context(name: str):
    """What the ONNX export of ``name`` needs around it: decoder-only models build their causal mask
    with the builder the tracer can follow (as GPT-2)."""
    return torch_zoo._gpt2_mask_patch() if name in DECODERS else contextlib.nullcontext()
