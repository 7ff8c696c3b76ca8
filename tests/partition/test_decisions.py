"""Partition records its decisions once; the report and the harness read the record."""

import numpy as np
import pytest
from tvm import relax

from harness import make_module
from tvm_trt import partition
from tvm_trt.codegen import spec
from tvm_trt.core import registry
from tvm_trt.report import partition_with_report

R = relax.op
W = relax.const(np.random.default_rng(1).standard_normal((4, 3, 3, 3)).astype("float32") * 0.2)
INPUTS = {"x": ((2, 3, 8, 8), "float32")}


def _chain(x):
    """relu -> sum over the batch axis (TVM with use_implicit_batch) -> conv2d -> relu."""
    bb = relax.BlockBuilder.current()
    t = bb.emit(R.nn.relu(x))
    s = bb.emit(R.sum(t, [0], keepdims=True))
    c = bb.emit(R.nn.conv2d(s, W, padding=(1, 1)))
    return R.nn.relu(c)


def test_every_call_is_recorded_with_its_subgraph_or_reason():
    pmod, _, record = partition.partition_with_record(make_module(_chain, INPUTS), use_implicit_batch=True)
    assert record.ops_total == 4
    assert [(d.op, d.subgraph) for d in record.offloaded] == [
        ("relax.nn.relu", "tensorrt_0"),
        ("relax.nn.conv2d", "tensorrt_1"),
        ("relax.nn.relu", "tensorrt_1"),
    ]
    (kept,) = record.rejected
    assert (kept.op, kept.reason) == (
        "relax.sum",
        "relax.sum touches the batch axis (axis 0) with use_implicit_batch=True",
    )
    assert kept.var in {str(b.var.name) for b in pmod["main"].body.blocks[0].bindings}
    assert record.subgraph_calls == {"tensorrt_0": 1, "tensorrt_1": 1}
    # the variables are those the spec (and so a conversion error) names for the same nodes
    for name in ("tensorrt_0", "tensorrt_1"):
        node_vars = [n["var"] for n in spec.from_function(pmod[name], name, {})[0]["nodes"]]
        assert node_vars == [d.var for d in record.offloaded if d.subgraph == name] and all(node_vars)


def test_put_back_subgraph_keeps_its_rule_as_reason():
    _, _, record = partition.partition_with_record(
        make_module(_chain, INPUTS), use_implicit_batch=True, remove_no_mac_subgraphs=True
    )
    assert {d.op: d.reason for d in record.rejected} == {
        "relax.nn.relu": partition.NO_MAC_REASON,
        "relax.sum": "relax.sum touches the batch axis (axis 0) with use_implicit_batch=True",
    }
    assert {d.subgraph for d in record.offloaded} == {"tensorrt_0"}


def test_nothing_offloaded_still_recorded():
    mod = make_module(lambda x: R.nonzero(x), {"x": ((2, 3), "float32")})
    pmod, _, record = partition.partition_with_record(mod)
    assert not record.offloaded and [(d.op, d.reason) for d in record.rejected] == [
        ("relax.nonzero", "no TensorRT converter registered for relax.nonzero")
    ]


def test_report_renders_the_record_without_asking_again(monkeypatch):
    """The report neither simplifies again nor asks the registry after partitioning: it asks
    exactly what partitioning alone asks."""
    asked, simplified = [], []
    real_reason, real_simplify = registry.reason, partition.partitioner.simplify
    monkeypatch.setattr(registry, "reason", lambda call, opts: asked.append(call.op.name) or real_reason(call, opts))
    monkeypatch.setattr(partition.partitioner, "simplify", lambda mod: simplified.append(1) or real_simplify(mod))
    mod = make_module(_chain, INPUTS)

    partition.partition_with_record(mod, use_implicit_batch=True)
    by_partition = list(asked)
    asked.clear()
    simplified.clear()
    report = partition_with_report(mod, use_implicit_batch=True)[2]
    assert asked == by_partition and len(simplified) == 1
    assert [(r.op, r.reason) for r in report.rejected] == [
        ("relax.sum", "relax.sum touches the batch axis (axis 0) with use_implicit_batch=True")
    ]


@pytest.mark.parametrize(
    "options",
    [{}, {"use_implicit_batch": True}, {"remove_no_mac_subgraphs": True}],
    ids=["default", "implicit-batch", "no-mac"],
)
def test_record_counts_match_the_partitioned_module(options):
    pmod, _, record = partition.partition_with_record(make_module(_chain, INPUTS), **options)
    remaining = [
        b.value.op.name
        for b in pmod["main"].body.blocks[0].bindings
        if isinstance(b.value, relax.Call) and not isinstance(b.value.op, relax.GlobalVar)
    ]
    assert [d.op for d in record.rejected] == remaining
    assert len(record.offloaded) + len(record.rejected) == record.ops_total
