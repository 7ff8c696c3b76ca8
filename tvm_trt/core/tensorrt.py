"""The one place that imports TensorRT.

NVIDIA TensorRT (``import tensorrt``) is preferred when present; otherwise TensorRT-RTX
(``tensorrt_rtx_bindings``), which builds plans on machines without a GPU. Both expose the
same network API; TensorRT-RTX is strongly typed only (precision comes from tensor types).
"""

from __future__ import annotations

import functools
import logging
from typing import Optional, Tuple

logger = logging.getLogger("tvm_trt")

INSTALL_HINT = (
    "no TensorRT library found: install NVIDIA TensorRT (`import tensorrt`) or the TensorRT-RTX "
    "extra: pip install 'tvm-trt[rtx]'"
)


class TensorRTNotAvailable(RuntimeError):
    """Raised when an engine is needed but no TensorRT flavour is importable."""


@functools.lru_cache(maxsize=None)
def _load():
    """Returns (module, flavour) or (None, None)."""
    try:
        import tensorrt as trt  # NVIDIA TensorRT (JetPack, datacenter)

        if hasattr(trt, "Builder"):  # the index's `tensorrt` stubs have no Builder
            return trt, "tensorrt"
    except Exception:  # pragma: no cover - depends on the machine
        pass
    try:
        import tensorrt_rtx_libs  # noqa: F401  (loads libtensorrt_rtx before the bindings)
        import tensorrt_rtx_bindings as trt

        return trt, "tensorrt-rtx"
    except Exception:
        return None, None


def available() -> bool:
    return _load()[0] is not None


def trt():
    """The TensorRT Python module; raises TensorRTNotAvailable naming the extra to install."""
    mod, _ = _load()
    if mod is None:
        raise TensorRTNotAvailable(INSTALL_HINT)
    return mod


def flavour() -> Optional[str]:
    """'tensorrt', 'tensorrt-rtx' or None."""
    return _load()[1]


def _parse(version: str) -> Tuple[int, int, int]:
    parts = [int(p) for p in version.split(".")[:3] if p.isdigit()]
    return tuple((parts + [0, 0, 0])[:3])


def version() -> Optional[Tuple[int, int, int]]:
    """The library's own version as a tuple, e.g. (10, 8, 0) or (1, 7, 1)."""
    mod, _ = _load()
    return _parse(mod.__version__) if mod is not None else None


# TensorRT 10 releases that added a network method, newest first: TensorRT-RTX's own version numbers say
# nothing of the TensorRT API level it carries, its methods do.
_API_MARKERS = (((10, 7, 0), "add_squeeze"), ((10, 4, 0), "add_cumulative"))


def capability_version() -> Optional[Tuple[int, int, int]]:
    """The TensorRT API level used for op gates: for TensorRT-RTX (a TensorRT 10 era library) the newest
    TensorRT 10 release whose network methods it has (at least 10.0)."""
    mod, flav = _load()
    if mod is None:
        return None
    if flav == "tensorrt-rtx":
        return api_level(mod.INetworkDefinition)
    return version()


def api_level(network_class) -> Tuple[int, int, int]:
    """The TensorRT 10 API level of a network class, read from the methods it has."""
    return next((v for v, method in _API_MARKERS if hasattr(network_class, method)), (10, 0, 0))


def strongly_typed_only() -> bool:
    """TensorRT-RTX has no FP16/INT8 builder flags; precision is set by tensor types."""
    return flavour() == "tensorrt-rtx"


_SEVERITY_TO_LOGGING = {
    "INTERNAL_ERROR": logging.CRITICAL,
    "ERROR": logging.ERROR,
    "WARNING": logging.WARNING,
    "INFO": logging.DEBUG,  # builder chatter: at info our log shows one line per engine event
    "VERBOSE": logging.DEBUG,
}


@functools.lru_cache(maxsize=None)
def get_logger():
    """A TensorRT ILogger that forwards to the Python logger 'tvm_trt.tensorrt'."""
    mod = trt()
    py_logger = logging.getLogger("tvm_trt.tensorrt")

    class _Bridge(mod.ILogger):
        def __init__(self):
            mod.ILogger.__init__(self)

        def log(self, severity, msg):
            py_logger.log(_SEVERITY_TO_LOGGING.get(severity.name, logging.INFO), "%s", msg)

    return _Bridge()


@functools.lru_cache(maxsize=None)
def gpu_name() -> str:
    """What plans are built for: 'any' for plans built without a GPU (TensorRT-RTX AOT)."""
    try:
        import tvm

        dev = tvm.cuda(0)
        if dev.exist:
            return f"{dev.device_name}:sm_{dev.compute_version.replace('.', '')}"
    except Exception:
        pass
    return "any"
