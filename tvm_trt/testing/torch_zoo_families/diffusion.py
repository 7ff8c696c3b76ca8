"""diffusers builders: UNet2DConditionModel, AutoencoderKL, ControlNet and DiT at small configs."""

from __future__ import annotations

from .. import torch_zoo
from .hygiene import hygiene, seed_global

_UNET_BLOCKS = dict(
    layers_per_block=1,
    block_out_channels=(32, 64),
    down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
    cross_attention_dim=32,
    attention_head_dim=8,
    norm_num_groups=8,
)


def _latents(generator, channels=4, size=8, context=True):
    import torch

    inputs = {
        "sample": torch.randn(1, channels, size, size, generator=generator),
        "timestep": torch.tensor([10], dtype=torch.int64),
    }
    if context:
        inputs["encoder_hidden_states"] = torch.randn(1, 8, 32, generator=generator)
    return inputs


def _unet(generator):
    import diffusers

    model = diffusers.UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), **_UNET_BLOCKS
    )
    return model, _latents(generator)


def _vae(generator):
    import torch

    import diffusers

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
    return model, {"sample": torch.randn(1, 3, 16, 16, generator=generator)}


def _controlnet(generator):
    import torch

    import diffusers

    model = diffusers.ControlNetModel(in_channels=4, conditioning_embedding_out_channels=(8, 16), **_UNET_BLOCKS)
    inputs = _latents(generator)
    # The conditioning image is 2x the latents per downsampling of its embedding (one here).
    inputs["controlnet_cond"] = torch.randn(1, 3, 16, 16, generator=generator)
    return model, inputs


def _dit(generator):
    import torch

    import diffusers

    model = diffusers.DiTTransformer2DModel(
        num_attention_heads=2,
        attention_head_dim=16,
        in_channels=4,
        num_layers=2,
        sample_size=8,
        patch_size=2,
        num_embeds_ada_norm=10,
    )
    inputs = {
        "hidden_states": torch.randn(1, 4, 8, 8, generator=generator),
        "timestep": torch.tensor([10], dtype=torch.int64),
        "class_labels": torch.tensor([3], dtype=torch.int64),
    }
    return model, inputs


_MAKERS = {"unet": _unet, "vae": _vae, "controlnet": _controlnet, "dit": _dit}


def diffusers_model(kind: str):
    def build(generator):
        seed_global(generator)
        model, inputs = _MAKERS[kind](generator)
        hygiene(model, {}, generator)
        return torch_zoo._first_output(model.eval(), list(inputs)), inputs

    return build
