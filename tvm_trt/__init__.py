"""tvm-trt: TensorRT offload for stock Apache TVM (Relax), as a plugin.

mod, config = tvm_trt.partition_for_tensorrt(mod, params)
ex = tvm_trt.build(mod, target)
"""

import importlib

from . import configs, frontend, ops, runtime  # noqa: F401  (ops registers the built-in converters)
from .codegen import relax_ext
from .codegen.build import build
from .core.options import CompileOptions, OptionError
from .core.registry import PartitionOptions, register_op, supported_ops
from .offline_calibration import calibrate
from .partition import partition_for_tensorrt
from .report import PartitionReport, partition_report
from .runtime import runtime_stats
from .runtime.loader import load

__version__ = "0.1.0"

relax_ext.register()
runtime.register()

__all__ = [
    "CompileOptions",
    "OptionError",
    "PartitionOptions",
    "PartitionReport",
    "build",
    "calibrate",
    "configs",
    "load",
    "partition_for_tensorrt",
    "partition_report",
    "register_op",
    "runtime_stats",
    "supported_ops",
]

# Subpackages reached as attributes but imported on first use (as numpy and scipy do): the precision
# debugger, the command line, the docs generator and the test zoos are not needed to compile or run.
_LAZY_SUBMODULES = ("cli", "debug", "docs", "testing")


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")  # also sets it as an attribute of the package
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))
