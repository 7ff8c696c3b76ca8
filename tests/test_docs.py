import os
import re


from tvm_trt import docs
from tvm_trt.core import registry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_ops_tables_match_registry():
    files = docs.marked_files()
    assert files, "no documentation file carries the ops-table markers"
    for path in files:
        with open(path) as f:
            text = f.read()
        assert docs.replace_table(text, docs.ops_table()) == text, f"{path} is stale: run python -m tvm_trt.docs"


def test_table_lists_every_op():
    table = docs.ops_table()
    for name in registry.supported_ops():
        assert f"| `{name}` |" in table


def _converter_example() -> str:
    for path in [os.path.join(ROOT, "README.md"), os.path.join(ROOT, "docs", "adding-a-converter.md")]:
        if os.path.isfile(path):
            text = open(path).read()
            m = re.search(r"<!-- converter-example:start -->\s*```python\n(.*?)```", text, re.S)
            if m:
                return m.group(1)
    raise AssertionError("no converter example found")


def test_adding_a_converter_example_runs():
    saved = registry.get("relax.trunc")
    registry.unregister_op("relax.trunc")  # the example registers it; a built-in may exist by now
    try:
        exec(compile(_converter_example(), "adding-a-converter example", "exec"), {})
    finally:
        registry.unregister_op("relax.trunc")
        if saved is not None:
            registry._REGISTRY["relax.trunc"] = saved
