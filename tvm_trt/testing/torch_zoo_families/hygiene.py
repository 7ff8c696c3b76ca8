"""Random-init hygiene shared by every family, generic over classes: norm layers get random affine
parameters, BatchNorm statistics are calibrated on random data, and parameters that initialise to a
constant (zero biases and heads, 1e-6 layer scales) are randomised, so that no branch of a model is
numerically invisible."""

from __future__ import annotations

from typing import Dict

_NORM_CLASS_SUFFIXES = ("Norm", "Norm1d", "Norm2d", "Norm3d", "LayerNorm2d")


def _is_norm(module) -> bool:
    name = type(module).__name__
    return name.endswith(_NORM_CLASS_SUFFIXES) or name.endswith("RMSNorm")


def hygiene(model, inputs: Dict[str, object], generator) -> None:
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


def seed_global(generator) -> None:
    """Hugging Face / diffusers / timm initialise from the global generator."""
    import torch

    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))


def image(generator, size: int = 64, frames: int = 0, channels: int = 3):
    import torch

    shape = (1, channels, frames, size, size) if frames else (1, channels, size, size)
    return {"x": torch.randn(shape, generator=generator)}
