"""tvm-trt: TensorRT offload for stock Apache TVM (Relax), as a plugin.

    mod, config = tvm_trt.partition_for_tensorrt(mod, params)
    ex = tvm_trt.build(mod, target)
"""
from .core import tensorrt as backend, registry  # noqa: F401  (ops registers converters)
from .codegen import relax_ext as codegen
from . import frontend, ops, runtime
from .codegen.build import build
from .offline_calibration import calibrate
from .partition.partitioner import partition_for_tensorrt
from .core.registry import PartitionOptions, register_op, supported_ops
from .report import PartitionReport, partition_report
from .runtime import runtime_stats

__version__ = "0.1.0"

codegen.register()
runtime.register()

__all__ = [
    "PartitionOptions",
    "PartitionReport",
    "build",
    "calibrate",
    "partition_for_tensorrt",
    "partition_report",
    "register_op",
    "runtime_stats",
    "supported_ops",
]
