import io
import json
import time

import numpy as np
import pytest
from cli_runner import cli
from conv_relu_onnx import conv_relu_onnx


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory):
    return conv_relu_onnx(tmp_path_factory.mktemp("model") / "tiny.onnx")


def test_report_json_svg(tiny_onnx, tmp_path):
    r = cli(
        "report",
        tiny_onnx,
        "--input-shape",
        "x=2,3,8,8",
        "--json",
        str(tmp_path / "r.json"),
        "--svg",
        str(tmp_path / "r.svg"),
    )
    assert r.returncode == 0, r.stderr
    assert "2/2 ops (100.0%)" in r.stdout
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["ops_offloaded"] == 2 and data["subgraphs"][0]["has_mac"]
    svg = (tmp_path / "r.svg").read_text()
    assert svg.startswith("<svg") and "<title>tensorrt_0: 2 ops" in svg  # one box for the subgraph
    r = cli("report", tiny_onnx, "--svg", str(tmp_path / "ops.svg"), "--detail")
    assert r.returncode == 0 and "<title>nn.conv2d [tensorrt_0]</title>" in (tmp_path / "ops.svg").read_text()


def test_compile_and_run(tiny_onnx, tmp_path):
    lib = str(tmp_path / "m.so")
    r = cli("compile", tiny_onnx, "-o", lib, "--target", "llvm", "--config", "server")
    assert r.returncode == 0, r.stderr
    meta = json.loads(open(lib + ".json").read())
    assert meta["inputs"] == [{"name": "x", "shape": [1, 3, 8, 8], "dtype": "float32"}]
    assert meta["config"]["max_workspace_size"] == 1 << 32
    x = np.random.default_rng(1).standard_normal((1, 3, 8, 8)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    r = cli("run", lib, "--input", f"x={tmp_path / 'x.npy'}", "--repeat", "2")
    assert r.returncode == 0, r.stderr
    assert "output 0: shape [1, 4, 8, 8] float32" in r.stdout and "latency" in r.stdout


def test_cross_compile_for_jetson(tiny_onnx, tmp_path):
    """The Jetson recipe of the README: CUDA sm_87 device code, aarch64 host code and library, linked by a
    cross compiler installed from PyPI (Zig's clang): an AArch64 ELF with our weights symbol and stub."""
    from tvm_trt.testing import cross_compiler

    cc = cross_compiler.zig_cc(str(tmp_path))
    lib = tmp_path / "jetson.so"
    r = cli("compile", tiny_onnx, "-o", str(lib), "--target", "cuda", "--arch", "sm_87", "--cc", cc)
    assert r.returncode == 0, r.stderr
    data = lib.read_bytes()
    assert data[:4] == b"\x7fELF" and int.from_bytes(data[18:20], "little") == 183  # EM_AARCH64
    assert b"tvm_trt_weights_" in data and b"__tvm_ffi_tensorrt_0" in data


def test_configs_are_partition_kwargs():
    import tvm_trt
    from tvm_trt import configs
    from tvm_trt.report import partition_report

    from harness import make_module
    from tvm import relax

    mod = make_module(lambda x: relax.op.nn.relu(x), {"x": ((1, 4), "float32")})
    for name in configs.names():
        options = configs.load(name)
        _, config = tvm_trt.partition_for_tensorrt(mod, **options)
        assert all(config[k] == v for k, v in options.items())
    assert partition_report(mod, **options).ops_total == 1


class _FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_terminal_only():
    from tvm_trt.core import tensorrt, progress

    trt = tensorrt.trt()
    builder = trt.Builder(tensorrt.get_logger())
    network = builder.create_network(0)
    x = network.add_input("x", trt.float32, (1, 4))
    network.mark_output(network.add_activation(x, trt.ActivationType.RELU).get_output(0))
    config = builder.create_builder_config()
    if not hasattr(config, "progress_monitor"):
        pytest.skip("this TensorRT has no IProgressMonitor")
    term, pipe = _FakeTerminal(), io.StringIO()
    with progress.build_progress("tensorrt_0", stream=term, delay=0.0) as bar:
        monitor = progress.attach(bar, config)
        assert builder.build_serialized_network(network, config) is not None
        time.sleep(0.3)  # the bar's clock moves between TensorRT's steps
    drawn = term.getvalue()
    assert monitor is not None and "TensorRT tensorrt_0:" in drawn and "%|" in drawn
    assert "TensorRT tensorrt_0: built in" in drawn.splitlines()[-1]  # the line the build leaves
    config = builder.create_builder_config()
    with progress.build_progress("tensorrt_0", stream=pipe, delay=0.0) as bar:
        assert progress.attach(bar, config) is None
        assert builder.build_serialized_network(network, config) is not None
    assert bar is None and pipe.getvalue() == ""


def test_progress_appears_after_delay_only():
    """A build shorter than the delay draws no bar (only its closing line); a longer one does."""
    from tvm_trt.core import progress

    term = _FakeTerminal()
    with progress.build_progress("tensorrt_1", stream=term, delay=5.0):
        pass
    assert "%|" not in term.getvalue() and "tensorrt_1: built" in term.getvalue()
    term = _FakeTerminal()
    with pytest.raises(RuntimeError):
        with progress.build_progress("tensorrt_2", stream=term, delay=0.05):
            time.sleep(0.4)  # e.g. the network being built before TensorRT reports any phase
            raise RuntimeError("refused")
    assert "building the network" in term.getvalue() and "tensorrt_2: failed in" in term.getvalue()


def test_log_level_env(monkeypatch):
    import logging

    from tvm_trt.core import progress

    logger = logging.getLogger("tvm_trt")
    level, handlers = logger.level, list(logger.handlers)
    try:
        monkeypatch.setenv("TVM_TENSORRT_LOG_LEVEL", "verbose")
        progress.configure_logging()
        assert logger.level == logging.DEBUG and logging.getLogger("tvm_trt.tensorrt").isEnabledFor(logging.DEBUG)
        monkeypatch.setenv("TVM_TENSORRT_LOG_LEVEL", "loud")
        with pytest.raises(ValueError, match="TVM_TENSORRT_LOG_LEVEL"):
            progress.configure_logging()
    finally:
        logger.setLevel(level)
        logger.handlers[:] = handlers


@pytest.mark.mxnet
def test_report_mxnet_prefix(tmp_path):
    import mxnet as mx

    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Conv2D(4, 3, padding=1), mx.gluon.nn.BatchNorm(), mx.gluon.nn.Activation("relu"))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    net(mx.nd.zeros((1, 3, 8, 8)))
    prefix = str(tmp_path / "net")
    net.export(prefix, epoch=0)
    r = cli("report", prefix)
    assert r.returncode == 2 and "needs --input-shape" in r.stderr
    r = cli("report", prefix, "--input-shape", "data=1,3,8")  # MXNet's infer_shape: 100+ lines
    assert (r.returncode, r.stdout) == (2, ""), r.stderr
    assert (
        r.stderr.count("\n") == 1
        and "does not accept --input-shape data=1,3,8: MXNetError: Error in operator" in r.stderr
    )
    r = cli("report", prefix, "--input-shape", "data=1,3,8,8", "--json", str(tmp_path / "r.json"))
    assert r.returncode == 0, r.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["ops_offloaded"] == data["ops_total"] > 0 and data["per_op"]["relax.nn.conv2d"]["offloaded"] == 1
    params = tmp_path / "net-0000.params"
    params.write_bytes(params.read_bytes()[:100])  # a corrupt params file is named, not blamed on the shapes
    r = cli("report", prefix, "--input-shape", "data=1,3,8,8")
    assert (r.returncode, r.stdout) == (2, ""), r.stderr
    assert r.stderr.count("\n") == 1 and f"MXNet checkpoint '{params}' is not a readable params file" in r.stderr


def test_every_subcommand_takes_debug_for_the_traceback(tiny_onnx, tmp_path):
    """--debug (the README: it shows the traceback) is on every subcommand, debug included: the one line
    without it, the exception itself with it."""
    import argparse

    from tvm_trt.cli import entry
    from tvm_trt.cli.common import UsageError

    sub = next(a for a in entry.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert sorted(sub.choices) == ["compile", "debug", "report", "run"]
    for name, parser in sub.choices.items():
        assert "--debug" in parser._option_string_actions, name
    np.save(tmp_path / "x.npy", np.zeros((1, 3, 8, 8), "float32"))
    argv = ("debug", tiny_onnx, "--input", f"nope={tmp_path / 'x.npy'}")
    r = cli(*argv)
    assert (r.returncode, r.stdout) == (2, "") and r.stderr.count("\n") == 1, r.stderr
    assert "tvm-trt debug: error: --input 'nope': the model's inputs are ['x']" in r.stderr
    with pytest.raises(UsageError, match="--input 'nope': the model's inputs are"):
        cli(*argv, "--debug")
