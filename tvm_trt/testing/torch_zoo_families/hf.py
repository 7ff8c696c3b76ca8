"""Hugging Face builders: text encoders, decoder-only language models, speech and vision transformers,
each from a small config (2 layers, width 64) with random weights, its ModelOutput reduced to the first
tensor."""

from __future__ import annotations

from typing import Callable

from .. import torch_zoo
from .hygiene import hygiene, seed_global

SMALL_TEXT = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128, vocab_size=1000)
# a small ViT-style image encoder: 32x32 pixels in 8x8 patches
SMALL_VISION = dict(
    hidden_size=64, num_hidden_layers=2, num_attention_heads=4, image_size=32, patch_size=8, attn_implementation="eager"
)


# a DETR-style detector at test size: timm ResNet-18 backbone (random), one encoder and decoder layer
TINY_DETR = dict(
    use_timm_backbone=True,
    backbone="resnet18",
    use_pretrained_backbone=False,
    d_model=64,
    encoder_layers=1,
    decoder_layers=1,
    encoder_attention_heads=4,
    decoder_attention_heads=4,
    encoder_ffn_dim=128,
    decoder_ffn_dim=128,
    num_queries=10,
)


def hf(make: Callable, inputs_of: Callable, output: int = 0):
    """A Hugging Face model from ``make()``, its ModelOutput reduced to tensor ``output`` (the first)."""

    def build(generator):
        seed_global(generator)
        model = make()
        inputs = inputs_of(model.config, generator)
        hygiene(model, inputs, generator)
        if output:
            return _nth_output(model.eval(), list(inputs), output), inputs
        return torch_zoo._first_output(model.eval(), list(inputs)), inputs

    return build


def _nth_output(model, names, index: int):
    import torch

    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, *args):
            return self.inner(**dict(zip(names, args)), return_dict=False)[index]

    return Wrapped().eval()


def tokens(seq: int = 16, mask: bool = True, extra: Callable = None):
    """input_ids (+ an attention mask with padding) (+ ``extra(seq, generator)``'s named inputs)."""

    def inputs_of(config, generator):
        import torch

        ids = torch.randint(0, config.vocab_size, (1, seq), generator=generator)
        inputs = {"input_ids": ids}
        if mask:
            attention = torch.ones(1, seq, dtype=torch.int64)
            attention[:, seq - seq // 4 :] = 0  # padding: the mask arithmetic must be exercised
            inputs["attention_mask"] = attention
        inputs.update(extra(seq, generator) if extra else {})
        return inputs

    return inputs_of


def pixels(size: int, extra: Callable = None):
    def inputs_of(config, generator):
        import torch

        inputs = {"pixel_values": torch.randn(1, 3, size, size, generator=generator)}
        inputs.update(extra(config, generator) if extra else {})
        return inputs

    return inputs_of


def transformers_model(cls: str, config: str, part: str = "", **kwargs):
    """``transformers.<cls>(transformers.<config>(**kwargs))``, or its ``part`` (e.g. the encoder)."""

    def make():
        import transformers

        model = getattr(transformers, cls)(getattr(transformers, config)(**kwargs))
        return getattr(model, part)() if part else model

    return make


def decoder(cls: str, config: str, **kwargs):
    settings = dict(
        SMALL_TEXT, num_key_value_heads=2, max_position_embeddings=64, attn_implementation="sdpa", use_cache=False
    )
    settings.update(kwargs)
    return hf(transformers_model(cls, config, **settings), tokens())


def encoder(cls: str, config: str, inputs_of: Callable = None, **kwargs):
    """A BERT-like text encoder at the small width, eager attention."""
    settings = dict(SMALL_TEXT, attn_implementation="eager")
    settings.update(kwargs)
    return hf(transformers_model(cls, config, **settings), inputs_of or tokens())


def wav2vec2(cls: str = "Wav2Vec2Model", config: str = "Wav2Vec2Config"):
    """A small wav2vec 2.0-style speech encoder (HuBERT shares the architecture)."""
    return transformers_model(
        cls,
        config,
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


def audio(config, generator):
    import torch

    return {"input_values": torch.randn(1, 1600, generator=generator)}


def whisper_encoder():
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


def mel(config, generator):
    import torch

    return {"input_features": torch.randn(1, config.num_mel_bins, 2 * config.max_source_positions, generator=generator)}


def boxes(seq, generator):
    """LayoutLM's token boxes (x0, y0, x1, y1) in 0..1000, well formed."""
    import torch

    corners = torch.randint(0, 500, (1, seq, 2), generator=generator)
    return {"bbox": torch.cat([corners, corners + torch.randint(1, 500, (1, seq, 2), generator=generator)], -1)}


def mae_noise(config, generator):
    """ViTMAE's shuffling noise as an input (else the export draws it with RandomUniform)."""
    import torch

    patches = (config.image_size // config.patch_size) ** 2
    return {"noise": torch.rand(1, patches, generator=generator)}


def decoder_ids(seq, generator):
    """An encoder-decoder's decoder_input_ids (8 tokens, ids of the small vocabulary)."""
    import torch

    return {"decoder_input_ids": torch.randint(0, 1000, (1, seq // 2), generator=generator)}


def spectrogram(config, generator):
    """An audio spectrogram transformer's (1, frames, mel bins) input."""
    import torch

    return {"input_values": torch.randn(1, config.max_length, config.num_mel_bins, generator=generator)}
