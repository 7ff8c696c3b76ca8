"""Partitioning: a Relax module -> offloaded ``tensorrt_N`` functions + the config they carry.

``options`` (names, defaults, checks) -> ``simplify`` -> ``checks`` (the registry's answer per call, fusion
patterns) -> ``partitioner`` (fuse, merge, fall back to simpler strategies) -> ``subgraphs`` (list, inline back,
rename). ``decisions`` records what was decided for every call (the report renders it). ``dynamic_shapes``:
symbolic dims and profile ranges."""

from .checks import check_call, op_patterns
from .options import (
    CODEGEN,
    CONFIG_ATTR,
    EXCLUDED_REASON,
    NO_MAC_REASON,
    DEFAULT_VERSION,
    IMPLICIT_BATCH_BELOW,
    OPTIONS,
    check_options,
    check_params,
    default_config,
    resolve_implicit_batch,
    target_version,
)
from .decisions import NOT_MATCHED, Decision, PartitionRecord, Recorder
from .partitioner import offload, partition_for_tensorrt, partition_with_decisions, partition_with_record
from .simplify import simplify
from .subgraphs import inline_functions, inline_offloaded, is_mac_subgraph, offloaded_functions, rename_offloaded

__all__ = [
    "CODEGEN",
    "CONFIG_ATTR",
    "EXCLUDED_REASON",
    "DEFAULT_VERSION",
    "IMPLICIT_BATCH_BELOW",
    "NOT_MATCHED",
    "NO_MAC_REASON",
    "OPTIONS",
    "Decision",
    "PartitionRecord",
    "Recorder",
    "check_call",
    "check_options",
    "check_params",
    "default_config",
    "inline_functions",
    "inline_offloaded",
    "is_mac_subgraph",
    "offload",
    "offloaded_functions",
    "op_patterns",
    "partition_for_tensorrt",
    "partition_with_decisions",
    "partition_with_record",
    "rename_offloaded",
    "resolve_implicit_batch",
    "simplify",
    "target_version",
]
