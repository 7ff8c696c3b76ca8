"""Vision builders: ultralytics YOLO (from the packaged YAML), timm backbones, torchvision video networks
and MaxViT. Small inputs (64x64 images, 4x32x32 clips) so that a whole graph stays in a test."""

from __future__ import annotations

from .hygiene import hygiene, image, seed_global


def ultralytics(cfg: str, task: str = "detect"):
    def build(generator):
        import os

        os.environ.setdefault("YOLO_OFFLINE", "1")
        from ultralytics.nn import tasks

        seed_global(generator)
        cls = {
            "detect": tasks.DetectionModel,
            "segment": tasks.SegmentationModel,
            "pose": tasks.PoseModel,
            "rtdetr": tasks.RTDETRDetectionModel,
        }[task]
        model = cls(cfg, ch=3, nc=80, verbose=False)
        head = model.model[-1]
        head.export, head.format = True, "onnx"  # one output tensor: (1, 4 + classes [+ extras], anchors)
        inputs = image(generator)
        hygiene(model, inputs, generator)
        return _first_output_module(model).eval(), inputs

    return build


def timm(name: str, size: int = 64, **kwargs):
    def build(generator):
        import timm

        seed_global(generator)
        model = timm.create_model(name, pretrained=False, **kwargs)
        inputs = image(generator, size)
        hygiene(model, inputs, generator)
        return model.eval(), inputs

    return build


def torchvision(name: str, size: int = 64, module: str = "", **kwargs):
    """torchvision.models[.module].<name>(weights=None, **kwargs) on a ``size`` image."""

    def build(generator):
        import importlib

        seed_global(generator)
        namespace = importlib.import_module("torchvision.models" + (f".{module}" if module else ""))
        model = getattr(namespace, name)(weights=None, **kwargs)
        inputs = image(generator, size)
        wrapped = _first_output_module(model)
        hygiene(wrapped, inputs, generator)
        return wrapped.eval(), inputs

    return build


def video(name: str):
    def build(generator):
        import torchvision

        seed_global(generator)
        model = getattr(torchvision.models.video, name)(weights=None)
        inputs = image(generator, 32, frames=4)
        hygiene(model, inputs, generator)
        return model.eval(), inputs

    return build


def maxvit(generator):
    from torchvision.models.maxvit import MaxVit

    seed_global(generator)
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
    inputs = image(generator)
    hygiene(model, inputs, generator)
    return model.eval(), inputs


def _first_output(out):
    """The first tensor of a model's output (a dict of segmentation heads, a tuple of detections)."""
    if isinstance(out, dict):
        return next(iter(out.values()))
    if isinstance(out, (tuple, list)):
        return _first_output(out[0])
    return out


def _first_output_module(model):
    import torch

    class FirstOutput(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, x):
            return _first_output(self.inner(x))

    return FirstOutput()


def raft(generator):
    """torchvision's RAFT-small (correlation pyramid, grid_sample lookups), two refinement steps."""
    import torch

    from torchvision.models.optical_flow import raft_small

    seed_global(generator)
    model = raft_small(weights=None)

    class TwoSteps(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, image1, image2):
            return self.inner(image1, image2, num_flow_updates=2)[-1]

    # 128x128: the correlation pyramid needs feature maps of at least 16x16 (images / 8).
    inputs = {name: torch.randn(1, 3, 128, 128, generator=generator) for name in ("image1", "image2")}
    hygiene(model, {}, generator)
    return TwoSteps().eval(), inputs


def video_mixed(generator):
    """One small torchvision VideoResNet whose stages use each 3D convolution kind of the video zoo:
    full 3x3x3 (R3D), spatial-only 1x3x3 (MC3), and (2+1)D factorised (R(2+1)D); one block per stage."""
    from torchvision.models.video import resnet

    seed_global(generator)
    model = resnet.VideoResNet(
        block=resnet.BasicBlock,
        conv_makers=[resnet.Conv3DSimple, resnet.Conv3DNoTemporal, resnet.Conv2Plus1D, resnet.Conv2Plus1D],
        layers=[1, 1, 1, 1],
        stem=resnet.R2Plus1dStem,
        num_classes=10,
    )
    inputs = image(generator, 32, frames=4)
    hygiene(model, inputs, generator)
    return model.eval(), inputs


def swin3d(generator):
    """torchvision's Video Swin (3D shifted windows, relative position bias) at a small width and one
    block per stage; 4x64x64 clips pad the 8x7x7 windows and shift them (attention masks)."""
    from torchvision.models.video.swin_transformer import SwinTransformer3d

    seed_global(generator)
    model = SwinTransformer3d(
        patch_size=[2, 4, 4],
        embed_dim=16,
        depths=[1, 1, 1, 1],
        num_heads=[1, 2, 2, 4],
        window_size=[8, 7, 7],
        stochastic_depth_prob=0.0,
        num_classes=10,
    )
    inputs = image(generator, 64, frames=4)
    hygiene(model, inputs, generator)
    return model.eval(), inputs
