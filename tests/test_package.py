"""The package as users get it: presets by name, `tvm-trt --version`, the docs generator writing where it is told."""

import json
import subprocess
import sys

import pytest

from tvm_trt.cli import common as cli
from tvm_trt import configs, docs


def test_presets_by_name_and_path(tmp_path):
    assert configs.names() == ["jetson-orin", "rtx-aot", "server"]
    assert configs.load("jetson-orin")["use_fp16"] is True
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"max_workspace_size": 1 << 20}))
    assert configs.load(str(path)) == {"max_workspace_size": 1 << 20}
    with pytest.raises(
        ValueError, match=r"no config file or preset named 'jetson'.*\['jetson-orin', 'rtx-aot', 'server'\]"
    ):
        configs.load("jetson")
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="must hold a JSON object"):
        configs.load(str(path))


def test_cli_config_unknown_preset_is_one_line():
    with pytest.raises(cli.UsageError, match="no config file or preset named 'nope'"):
        cli.load_config("nope")


def test_version_names_tvm_and_tensorrt():
    r = subprocess.run([sys.executable, "-m", "tvm_trt.cli", "--version"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "tvm-trt 0.1.0" and lines[1].startswith("TVM 0.27")
    assert lines[2] in ("TensorRT: not installed",) or lines[2].split()[1] in ("tensorrt", "tensorrt-rtx")


def test_docs_writes_the_file_it_is_given(tmp_path, capsys):
    out = tmp_path / "ops.md"
    assert docs.main([str(out)]) == 0
    assert f"{out}: wrote the ops table" in capsys.readouterr().out
    assert docs.replace_table(out.read_text(), docs.ops_table()) == out.read_text()
    assert docs.main(["--check", str(out)]) == 0
    plain = tmp_path / "plain.md"
    plain.write_text("no markers here\n")
    assert docs.main([str(plain)]) == 2
    assert "has no <!-- ops-table:start -->" in capsys.readouterr().err


def test_docs_outside_a_checkout_says_so(monkeypatch, capsys):
    monkeypatch.setattr(docs, "FILES", [])
    assert docs.main([]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "no FILE given" in err


def test_subpackages_reachable_after_import_tvm_trt_without_eager_import():
    """`import tvm_trt; tvm_trt.debug.compare(...)` as the README shows: the lazy subpackages load on
    first attribute access, not at `import tvm_trt`; an unknown name is still an AttributeError."""
    code = """
import sys
import tvm_trt
lazy = tvm_trt._LAZY_SUBMODULES
assert set(lazy) >= {"cli", "debug", "docs", "testing"}, lazy
eager = [n for n in lazy if f"tvm_trt.{n}" in sys.modules]
assert not eager, f"imported by import tvm_trt: {eager}"
assert set(lazy) <= set(dir(tvm_trt))
assert callable(tvm_trt.debug.compare) and tvm_trt.debug.DebugReport.__name__ == "DebugReport"
assert sys.modules["tvm_trt.debug"] is tvm_trt.debug
for name in lazy:
    assert getattr(tvm_trt, name) is sys.modules[f"tvm_trt.{name}"], name
try:
    tvm_trt.nope
except AttributeError as err:
    assert str(err) == "module 'tvm_trt' has no attribute 'nope'", err
else:
    raise AssertionError("tvm_trt.nope did not raise AttributeError")
print("ok")
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]


def test_configs_after_a_bare_import_tvm_trt():
    """`import tvm_trt; tvm_trt.configs.load("jetson-orin")` as the README shows, in a fresh interpreter: the
    presets load by name, an unknown name and a bad option are one line each, a missing file is an OSError."""
    code = """
import tvm_trt
configs = tvm_trt.configs
assert "configs" in dir(tvm_trt) and configs.names() == ["jetson-orin", "rtx-aot", "server"], configs.names()
assert configs.load("jetson-orin")["use_fp16"] is True
for name in configs.names():
    tvm_trt.CompileOptions.from_kwargs(f"preset {name}", **configs.load(name))
try:
    configs.load("jetson")
except ValueError as err:
    assert str(err) == "no config file or preset named 'jetson'; the presets are ['jetson-orin', 'rtx-aot', 'server']", err
else:
    raise AssertionError("an unknown preset loaded")
try:
    configs.load("missing.json")
except FileNotFoundError as err:
    assert err.filename == "missing.json", err
else:
    raise AssertionError("a missing config file loaded")
import json, os, tempfile
path = os.path.join(tempfile.mkdtemp(), "typo.json")
with open(path, "w") as f:
    json.dump({"use_fp17": True}, f)
try:
    configs.load(path)
except ValueError as err:
    assert str(err) == f"config {path!r}: unknown option 'use_fp17'; did you mean 'use_fp16'?", err
else:
    raise AssertionError("a config with a typo loaded")
print("ok")
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]
