"""The builder options of CompileOptions applied to a TensorRT IBuilderConfig.

Every knob maps to one IBuilderConfig attribute or flag of NVIDIA TensorRT and TensorRT-RTX
(both expose the same names). A knob the installed TensorRT lacks is an error naming it, never
silently dropped: the plan would not be what was asked for.
"""

from __future__ import annotations

from typing import Optional

from ..core import tensorrt as backend

HARDWARE_LEVELS = {"none": "NONE", "ampere_plus": "AMPERE_PLUS", "same_compute_capability": "SAME_COMPUTE_CAPABILITY"}


class UnsupportedKnob(ValueError):
    """The installed TensorRT has no API for an option that was set."""


def _need(obj, attr: str, option: str):
    if not hasattr(obj, attr):
        raise UnsupportedKnob(
            f"option {option}: {backend.flavour()} {'.'.join(map(str, backend.version() or ()))} has no {attr}"
        )
    return getattr(obj, attr)


def _flag(config, name: str, option: str) -> None:
    trt = backend.trt()
    config.set_flag(_need(trt.BuilderFlag, name, option))


def apply(config, settings) -> None:
    """Sets on ``config`` (an IBuilderConfig) every knob of ``settings`` (a BuildSettings) that is
    not TensorRT's default; defaults are left untouched so plain builds stay as they were."""
    trt = backend.trt()
    if settings.builder_optimization_level != 3:
        _need(config, "builder_optimization_level", "builder_optimization_level")
        config.builder_optimization_level = settings.builder_optimization_level
    if settings.hardware_compatibility != "none":
        if backend.flavour() == "tensorrt-rtx":  # its setter only logs "unsupported"
            raise UnsupportedKnob(
                "option hardware_compatibility: TensorRT-RTX has no hardware compatibility "
                "levels; its ahead-of-time plans choose GPUs with compute_capabilities"
            )
        _need(config, "hardware_compatibility_level", "hardware_compatibility")
        level = _need(trt, "HardwareCompatibilityLevel", "hardware_compatibility")
        config.hardware_compatibility_level = getattr(level, HARDWARE_LEVELS[settings.hardware_compatibility])
    if settings.version_compatible:
        _flag(config, "VERSION_COMPATIBLE", "version_compatible")
    if settings.sparse_weights:
        _flag(config, "SPARSE_WEIGHTS", "sparse_weights")
    if settings.max_aux_streams is not None:
        _need(config, "max_aux_streams", "max_aux_streams")
        config.max_aux_streams = settings.max_aux_streams
    if settings.compute_capabilities:
        _compute_capabilities(config, settings.compute_capabilities)
    if settings.dla_core is not None:
        _need(config, "DLA_core", "dla_core")
        config.default_device_type = trt.DeviceType.DLA
        config.DLA_core = settings.dla_core
        if config.DLA_core != settings.dla_core:  # TensorRT-RTX keeps -1: no DLA on its GPUs
            raise UnsupportedKnob(
                f"option dla_core={settings.dla_core}: this {backend.flavour()} has no DLA "
                "(DLA plans need NVIDIA TensorRT on Jetson/DRIVE)"
            )
        if settings.dla_gpu_fallback:  # layers DLA cannot run (TensorRT decides) go to the GPU
            _flag(config, "GPU_FALLBACK", "dla_gpu_fallback")
    if settings.strip_weights:  # the plan holds no weights; refit at load puts the same ones back
        _flag(config, "STRIP_PLAN", "strip_weights")
        _flag(config, "REFIT_INDIVIDUAL", "strip_weights")  # the weights marked refittable (stripped.py)


def _compute_capabilities(config, capabilities) -> None:
    """TensorRT-RTX: the GPUs an ahead-of-time plan is built for (``ComputeCapability.SM86``...)."""
    trt = backend.trt()
    kinds = _need(trt, "ComputeCapability", "compute_capabilities")
    _need(config, "set_compute_capability", "compute_capabilities")
    members = []
    for cap in capabilities:
        member: Optional[object] = getattr(kinds, "SM" + cap.replace(".", ""), None)
        if member is None:
            known = sorted(n[2:-1] + "." + n[-1] for n in dir(kinds) if n.startswith("SM"))
            raise UnsupportedKnob(
                f"option compute_capabilities: {cap} is not a target of this TensorRT-RTX "
                f"(it builds for {', '.join(known)})"
            )
        members.append(member)
    config.num_compute_capabilities = len(members)
    for index, member in enumerate(members):
        if not config.set_compute_capability(member, index):
            raise UnsupportedKnob(f"option compute_capabilities: TensorRT refused {capabilities[index]}")
