"""tvm-trt: TensorRT offload for stock Apache TVM (Relax), as a plugin.

    mod, config = tvm_trt.partition_for_tensorrt(mod, params)
    ex = tvm_trt.build(mod, target)
"""
from . import backend, codegen, configs, frontend, ops, registry, runtime  # noqa: F401  (ops registers converters)
from .build import build
from .calibrate import calibrate
from .options import CompileOptions, OptionError
from .partition import partition_for_tensorrt
from .registry import PartitionOptions, register_op, supported_ops
from .report import PartitionReport, partition_report
from .runtime import runtime_stats

__version__ = "0.1.0"

codegen.register()
runtime.register()

__all__ = [
    "CompileOptions",
    "OptionError",
    "PartitionOptions",
    "PartitionReport",
    "build",
    "calibrate",
    "configs",
    "partition_for_tensorrt",
    "partition_report",
    "register_op",
    "runtime_stats",
    "supported_ops",
]
