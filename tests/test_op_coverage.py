"""docs/op-coverage.md is derived from the Relax ops TVM's frontends emit (harvested into
data/frontend_ops.json by tests/op_coverage.py) and the converter registry: it fails when the
table is stale, or when an emitted op has neither a converter nor a stated reason."""

import op_coverage  # tests/op_coverage.py


def test_every_emitted_op_has_a_converter_or_a_reason():
    assert op_coverage.problems(op_coverage.load_cache()) == []


def test_table_is_current():
    want = op_coverage.render(op_coverage.load_cache())
    got = op_coverage.TABLE.read_text() if op_coverage.TABLE.exists() else ""
    assert got == want, "docs/op-coverage.md is stale: run python tests/op_coverage.py"


def test_harvest_covers_both_frontends():
    ops = op_coverage.load_cache()["ops"]
    assert sum(1 for v in ops.values() if v["onnx"]) > 100
    assert sum(1 for v in ops.values() if v["torch"]) > 100
