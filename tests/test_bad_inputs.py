"""Every bad input gets one clear line: the CLI exits 2 with one line naming what is wrong, the
API raises a TypeError/ValueError naming the key, variable or input. One table each."""

import os
import shutil

import numpy as np
import pytest
from cli_runner import cli
from conv_relu_onnx import conv_relu_onnx
from onnx import TensorProto, helper
from tvm import relax

import tvm_trt
from harness import make_module
from tvm_trt.core import env, registry
from tvm_trt import partition
from tvm_trt.runtime import engine, subgraph


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A conv+relu ONNX model, its compiled library, damaged copies, and inputs."""
    d = tmp_path_factory.mktemp("bad")
    conv_relu_onnx(d / "tiny.onnx")
    lib = d / "m.so"
    r = cli("compile", d / "tiny.onnx", "-o", lib, "--target", "llvm")
    assert r.returncode == 0, r.stderr
    data = lib.read_bytes()
    for name, content, meta in [
        ("half.so", data[: len(data) // 2], True),
        ("ninety.so", data[: len(data) * 9 // 10], False),  # no LIB.so.json: the ELF header tells
        ("flipped.so", data[:4000] + bytes([data[4000] ^ 1]) + data[4001:], True),  # same size
        ("text.so", b"not a library\n", False),
    ]:
        (d / name).write_bytes(content)
        if meta:
            shutil.copy(str(lib) + ".json", d / (name + ".json"))
    shutil.copy(_foreign_library(), d / "foreign.so")
    r = cli("compile", d / "tiny.onnx", "-o", d / "cuda.so", "--target", "cuda", "--arch", "sm_87")
    assert r.returncode == 0, r.stderr
    shutil.copy(d / "cuda.so", d / "cuda_bare.so")  # without its .json: only TVM's loader can tell it is CUDA
    _save_onnx(_tiny_onnx(opset=99), d / "opset99.onnx")
    np.save(d / "x.npy", np.zeros((1, 3, 8, 8), "float32"))
    np.save(d / "x_shape.npy", np.zeros((1, 3, 16, 8), "float32"))
    np.save(d / "x_rank.npy", np.zeros((3, 8, 8), "float32"))
    np.save(d / "x_f64.npy", np.zeros((1, 3, 8, 8), "float64"))
    np.save(d / "x_i32.npy", np.zeros((1, 3, 8, 8), "int32"))
    (d / "typo.json").write_text('{"use_fp17": true}')
    shutil.copy(lib, d / "empty_meta.so")
    (d / "empty_meta.so.json").write_text("{}")
    (d / "notes.txt").write_text("the user's notes: must survive a mistaken -o\n")
    (d / "broken_model.py").write_text("def build(:\n    pass\n")
    (d / "list.json").write_text("[1, 2]")
    (d / "broken.json").write_text("{")
    (d / "mymodel.py").write_text(
        "from tvm import relax\n"
        "def build():\n"
        "    bb = relax.BlockBuilder()\n"
        "    x = relax.Var('x', relax.TensorType([1, 4], 'float32'))\n"
        "    with bb.function('main', [x]):\n"
        "        with bb.dataflow():\n"
        "            y = bb.emit_output(relax.op.nn.relu(x))\n"
        "        bb.emit_func_output(y)\n"
        "    return bb.get(), {}\n"
    )
    return d


def _foreign_library():
    """A real shared library that tvm.compile did not write: NumPy's C extension."""
    import glob

    root = os.path.dirname(np.__file__)
    return sorted(glob.glob(os.path.join(root, "*core", "_multiarray_umath*.so")))[0]


CLI_CASES = [
    # (id, argv, environment, message)
    ("model-path", ["report", "missing.onnx"], {}, "MODEL 'missing.onnx' not found"),
    ("shape-syntax", ["report", "{d}/tiny.onnx", "--input-shape", "x=1,a"], {}, "bad --input-shape 'x=1,a'"),
    ("shape-name", ["report", "{d}/tiny.onnx", "--input-shape", "nope=1,3,8,8"], {}, "unknown input name 'nope'"),
    (
        "shape-rank",
        ["report", "{d}/tiny.onnx", "--input-shape", "x=1,3,32"],
        {},
        "--input-shape x=1,3,32 does not fit the model's input x of shape [1, 3, 8, 8]",
    ),
    (
        "shape-channels",
        ["report", "{d}/tiny.onnx", "--input-shape", "x=1,4,8,8"],
        {},
        "the model does not take --input-shape x=1,4,8,8 at Conv: The channel size",
    ),
    ("version-text", ["report", "{d}/tiny.onnx", "--version", "x.y"], {}, "bad --version 'x.y'"),
    ("version-major-only", ["report", "{d}/tiny.onnx", "--version", "8"], {}, "bad --version '8'"),
    (
        "config-missing",
        ["report", "{d}/tiny.onnx", "--config", "missing.json"],
        {},
        "cannot read config 'missing.json': No such file or directory; the presets are ['jetson-orin', 'rtx-aot', 'server']",
    ),
    ("config-json", ["report", "{d}/tiny.onnx", "--config", "{d}/broken.json"], {}, "is not valid JSON"),
    ("config-list", ["report", "{d}/tiny.onnx", "--config", "{d}/list.json"], {}, "must hold a JSON object"),
    (
        "config-typo",
        ["report", "{d}/tiny.onnx", "--config", "{d}/typo.json"],
        {},
        "typo.json': unknown option 'use_fp17'; did you mean 'use_fp16'?",
    ),
    ("module-missing", ["report", "nomodule_here:build"], {}, "cannot import 'nomodule_here'"),
    (
        "output-dir",
        ["compile", "{d}/tiny.onnx", "-o", "/nonexistent-dir/m.so", "--target", "llvm"],
        {},
        "does not exist",
    ),
    ("arch", ["compile", "{d}/tiny.onnx", "-o", "{d}/o.so", "--arch", "87"], {}, "bad --arch '87'"),
    ("library-missing", ["run", "missing.so"], {}, "library 'missing.so' not found"),
    ("library-half", ["run", "{d}/half.so"], {}, "half.so is truncated"),
    ("library-90pct-no-json", ["run", "{d}/ninety.so"], {}, "ninety.so is truncated"),
    ("library-changed", ["run", "{d}/flipped.so"], {}, "differs from the library compiled (sha256 mismatch)"),
    ("library-text", ["run", "{d}/text.so"], {}, "text.so is not a shared library (no ELF or Mach-O header)"),
    (
        "library-foreign",
        ["run", "{d}/foreign.so", "--input", "x={d}/x.npy"],
        {},
        "foreign.so is not a library exported by tvm-trt compile",
    ),
    ("input-name", ["run", "{d}/m.so", "--input", "y={d}/x.npy"], {}, "unknown input(s) ['y']"),
    ("input-file", ["run", "{d}/m.so", "--input", "x={d}/none.npy"], {}, "cannot read input 'x'"),
    (
        "input-shape",
        ["run", "{d}/m.so", "--input", "x={d}/x_shape.npy"],
        {},
        "input 'x' has shape [1, 3, 16, 8], the model takes [1, 3, 8, 8]",
    ),
    (
        "input-rank",
        ["run", "{d}/m.so", "--input", "x={d}/x_rank.npy"],
        {},
        "input 'x' has shape [3, 8, 8], the model takes [1, 3, 8, 8]",
    ),
    (
        "input-float64",
        ["run", "{d}/m.so", "--input", "x={d}/x_f64.npy"],
        {},
        "input 'x' is float64, the model takes float32 (--cast converts it)",
    ),
    ("input-int32", ["run", "{d}/m.so", "--input", "x={d}/x_i32.npy"], {}, "input 'x' is int32"),
    (
        "env-fp16",
        ["run", "{d}/m.so"],
        {"TVM_TENSORRT_USE_FP16": "maybe"},
        "TVM_TENSORRT_USE_FP16='maybe' is not a boolean: use one of 1, true, yes, on, 0, false, no, off",
    ),
    (
        "env-multi-engine",
        ["run", "{d}/m.so"],
        {"TVM_TENSORRT_MULTI_ENGINE": "yes2"},
        "TVM_TENSORRT_MULTI_ENGINE='yes2' is not a boolean",
    ),
    (
        "env-workspace-text",
        ["run", "{d}/m.so"],
        {"TVM_TENSORRT_MAX_WORKSPACE_SIZE": "abc"},
        "TVM_TENSORRT_MAX_WORKSPACE_SIZE='abc' is not a positive integer",
    ),
    (
        "env-workspace-negative",
        ["run", "{d}/m.so"],
        {"TVM_TENSORRT_MAX_WORKSPACE_SIZE": "-5"},
        "TVM_TENSORRT_MAX_WORKSPACE_SIZE='-5' is not a positive integer",
    ),
    (
        "env-workspace-huge",
        ["run", "{d}/m.so"],
        {"TVM_TENSORRT_MAX_WORKSPACE_SIZE": "1<<70"},
        "TVM_TENSORRT_MAX_WORKSPACE_SIZE='1<<70' is not a positive integer below 2**63",
    ),
    (
        "env-executor",
        ["run", "{d}/m.so"],
        {"TVM_TENSORRT_EXECUTOR": "bogus"},
        "TVM_TENSORRT_EXECUTOR='bogus' is not allowed: use one of tensorrt, reference",
    ),
    (
        "output-is-model",
        ["compile", "{d}/tiny.onnx", "-o", "{d}/tiny.onnx", "--target", "llvm"],
        {},
        "library -o '{d}/tiny.onnx' is the model given as input; choose another path",
    ),
    (
        "output-not-a-library",
        ["compile", "{d}/tiny.onnx", "-o", "{d}/notes.txt", "--target", "llvm"],
        {},
        "library -o '{d}/notes.txt' exists and is not a library; --force overwrites it",
    ),
    (
        "output-directory",
        ["compile", "{d}/tiny.onnx", "-o", "{d}", "--target", "llvm"],
        {},
        "is a directory; give a file",
    ),
    (
        "json-is-model",
        ["report", "{d}/tiny.onnx", "--json", "{d}/tiny.onnx"],
        {},
        "--json '{d}/tiny.onnx' is the model",
    ),
    (
        "shape-twice",
        ["report", "{d}/tiny.onnx", "--input-shape", "x=1,3,8,8", "--input-shape", "x=2,3,8,8"],
        {},
        "--input-shape x=... is given twice",
    ),
    (
        "shape-huge",
        ["report", "{d}/tiny.onnx", "--input-shape", "x=1,3,99999999999,8"],
        {},
        "a dim above 2147483647 (TensorRT dims are 32-bit)",
    ),
    ("detail-without-svg", ["report", "{d}/tiny.onnx", "--detail"], {}, "give --svg FILE too"),
    ("model-directory", ["report", "{d}"], {}, "is a directory: give an .onnx file"),
    ("module-syntax-error", ["report", "broken_model:build"], {}, "cannot import 'broken_model' for MODEL"),
    (
        "cuda-without-arch",
        ["compile", "{d}/tiny.onnx", "-o", "{d}/c.so", "--target", "cuda"],
        {},
        "--target cuda needs --arch",
    ),
    (
        "cc-missing",
        ["compile", "{d}/tiny.onnx", "-o", "{d}/c.so", "--target", "llvm", "--cc", "no-such-g++"],
        {},
        "--cc 'no-such-g++': no such compiler on PATH",
    ),
    (
        "host-triple-link",
        ["compile", "{d}/tiny.onnx", "-o", "{d}/c.so", "--target", "llvm", "--host-triple", "aarch64-linux-gnu"],
        {},
        "cannot link '{d}/c.so': ",
    ),
    (
        "host-triple-unknown",
        ["compile", "{d}/tiny.onnx", "-o", "{d}/c.so", "--target", "llvm", "--host-triple", "nonsense-triple"],
        {},
        "cannot build for host 'nonsense-triple'",
    ),
    ("library-directory", ["run", "{d}"], {}, "is a directory, not a library"),
    ("library-empty-json", ["run", "{d}/empty_meta.so"], {}, "empty_meta.so.json has no inputs"),
    ("repeat-zero", ["run", "{d}/m.so", "--repeat", "0"], {}, "--repeat 0: give at least 1 timed run"),
    ("save-is-library", ["run", "{d}/m.so", "--save", "{d}/m.so"], {}, "--save '{d}/m.so' is the model given as input"),
    ("compare-not-onnx", ["run", "{d}/m.so", "--compare", "{d}/x.npy"], {}, "not outputs saved by run --save"),
    (
        "env-log-level",
        ["report", "{d}/tiny.onnx"],
        {"TVM_TENSORRT_LOG_LEVEL": "loud"},
        "TVM_TENSORRT_LOG_LEVEL='loud' is not allowed: use one of error, warning, info, verbose, debug",
    ),
]


# A library compiled for CUDA, on a machine without a CUDA GPU (with one, these libraries run).
NO_GPU_CASES = [
    # (id, argv, message)
    ("cuda-library-no-gpu", ["run", "{d}/cuda.so"], "cuda.so was built for cuda but no CUDA GPU is visible"),
    (
        "cuda-library-without-json",
        ["run", "{d}/cuda_bare.so", "--input", "x={d}/x.npy"],
        "cuda_bare.so holds CUDA code and has no {d}/cuda_bare.so.json: it needs a CUDA GPU (",
    ),
]


@pytest.mark.parametrize("argv,environ,message", [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_cli_one_line_exit_2(files, monkeypatch, argv, environ, message):
    _one_line_exit_2(files, monkeypatch, argv, environ, message)


@pytest.mark.parametrize("argv,message", [c[1:] for c in NO_GPU_CASES], ids=[c[0] for c in NO_GPU_CASES])
def test_cli_one_line_exit_2_without_gpu(files, monkeypatch, argv, message):
    import tvm

    if tvm.cuda(0).exist:
        pytest.skip("a CUDA GPU is visible: the CUDA library runs")
    _one_line_exit_2(files, monkeypatch, argv, {}, message)


def _one_line_exit_2(files, monkeypatch, argv, environ, message):
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(files)  # module:function cases import from the current directory
    before = {p.name: p.stat().st_mtime_ns for p in files.iterdir()}
    r = cli(*[a.format(d=files) for a in argv])
    assert (r.returncode, r.stdout) == (2, ""), r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message.format(d=files) in lines[0], r.stderr
    assert {p.name: p.stat().st_mtime_ns for p in files.iterdir()} == before  # no file written, changed or lost


WARN_CASES = [
    # (id, argv, message): the command does its work; one warning line says what may be wrong
    (
        "version-unreleased",
        ["report", "{d}/tiny.onnx", "--version", "99.0"],
        "target TensorRT version 99.0.0: no TensorRT 99 exists yet (newest known: 11.x); ops are gated as for the newest",
    ),
    (
        "version-unreleased-compile",  # partitioned and built: said once
        ["compile", "{d}/tiny.onnx", "-o", "{d}/v99.so", "--target", "llvm", "--version", "99.0"],
        "no TensorRT 99 exists yet",
    ),
    (
        "version-unreleased-debug",  # compare partitions again for each fp32_ops it tries: said once
        ["debug", "{d}/tiny.onnx", "--version", "99.0", "--precision", "fp16"],
        "no TensorRT 99 exists yet",
    ),
    (
        "onnx-opset-newer",
        ["report", "{d}/opset99.onnx"],
        "'opset99.onnx' declares ONNX opset 99, newer than the {newest} this onnx {onnx_version} knows: "
        "ops may import with older semantics",
    ),
]


@pytest.mark.parametrize("argv,message", [c[1:] for c in WARN_CASES], ids=[c[0] for c in WARN_CASES])
def test_cli_one_warning_line_exit_0(files, argv, message):
    import onnx

    r = cli(*[a.format(d=files) for a in argv])
    assert r.returncode == 0 and r.stdout, r.stderr
    lines = r.stderr.strip().splitlines()
    expected = message.format(d=files, newest=onnx.defs.onnx_opset_version(), onnx_version=onnx.__version__)
    assert len(lines) == 1 and lines[0].startswith("tvm-trt: warning: ") and expected in lines[0], r.stderr


def test_api_warns_at_the_callers_line(files):
    """version=(99, 0) and an ONNX opset newer than onnx knows: one warning each, one line, reported at the
    line that called the API (not inside tvm_trt); tvm_trt.build on the returned config does not repeat it."""
    import warnings

    for call in (
        lambda: tvm_trt.partition_for_tensorrt(_relu(), version=(99, 0)),
        lambda: tvm_trt.partition_report(_relu(), version="99.0"),
    ):
        with pytest.warns(UserWarning) as record:
            call()
        assert [str(w.message) for w in record] == [
            "target TensorRT version 99.0.0: no TensorRT 99 exists yet (newest known: 11.x); "
            "ops are gated as for the newest"
        ]
        assert record[0].filename == __file__
    with pytest.warns(UserWarning, match="no TensorRT 99 exists yet"):
        mod, config = tvm_trt.partition_for_tensorrt(_relu(), version="99.0.1")
    assert config["tensorrt_version"] == [99, 0, 1]  # taken as given
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        tvm_trt.build(mod, "llvm", config)
        tvm_trt.partition_for_tensorrt(_relu(), version=(11, 0))  # the newest known
    assert not [w for w in record if "exists yet" in str(w.message)]

    with pytest.warns(UserWarning) as record:
        mod, _ = tvm_trt.frontend.from_onnx(str(files / "opset99.onnx"))
    assert len(record) == 1 and "declares ONNX opset 99, newer than the" in str(record[0].message)
    assert "\n" not in str(record[0].message) and record[0].filename == __file__
    assert mod["main"].params[0].name == "x"  # imported all the same


def test_cli_what_the_errors_point_to(files, monkeypatch):
    """--cast converts; a batch of 2 for a model exported with 1 is an accepted override;
    module:function is found in the current directory."""
    r = cli("run", files / "m.so", "--input", f"x={files / 'x_f64.npy'}", "--cast", "--repeat", "1")
    assert r.returncode == 0 and "output 0: shape [1, 4, 8, 8] float32" in r.stdout, r.stderr
    r = cli("report", files / "tiny.onnx", "--input-shape", "x=2,3,8,8")
    assert r.returncode == 0 and "2/2 ops" in r.stdout, r.stderr
    monkeypatch.chdir(files)
    monkeypatch.syspath_prepend(str(files))  # pytest's own sys.path has no '' entry
    r = cli("report", "mymodel:build")
    assert r.returncode == 0 and "1/1 ops" in r.stdout, r.stderr


def _tiny_onnx(opset=13):
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 8])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _save_onnx(model, path):
    import onnx

    onnx.save(model, str(path))


def test_load_refuses_a_truncated_library(files):
    """The Python API's loader checks like the CLI: a truncated library raises, never SIGBUS."""
    with pytest.raises(ValueError, match="half.so is truncated"):
        tvm_trt.load(files / "half.so")
    with pytest.raises(ValueError, match="sha256 mismatch"):
        tvm_trt.load(files / "flipped.so")
    import tvm

    vm = relax.VirtualMachine(tvm_trt.load(files / "m.so"), tvm.cpu())  # the real library loads and runs
    assert vm["main"](tvm.runtime.tensor(np.ones((1, 3, 8, 8), "float32"))).numpy().shape == (1, 4, 8, 8)


def _relu():
    return make_module(lambda x: relax.op.nn.relu(x), {"x": ((1, 4), "float32")})


API_CASES = [
    # (id, call, exception, message)
    (
        "option-typo",
        lambda m: tvm_trt.partition_for_tensorrt(m, use_fp17=True),
        TypeError,
        "partition_for_tensorrt: unknown option 'use_fp17'; did you mean 'use_fp16'?",
    ),
    (
        "report-option-typo",
        lambda m: tvm_trt.partition_report(m, use_fp17=True),
        TypeError,
        "unknown option 'use_fp17'",
    ),
    (
        "build-option-typo",
        lambda m: tvm_trt.build(tvm_trt.partition_for_tensorrt(m)[0], "llvm", use_fp17=True),
        TypeError,
        "tvm_trt.build: unknown option 'use_fp17'",
    ),
    (
        "workspace",
        lambda m: tvm_trt.partition_for_tensorrt(m, max_workspace_size=-5),
        TypeError,
        "partition_for_tensorrt: option max_workspace_size=-5: expected an integer 1..2**63-1",
    ),
    (
        "version-int",
        lambda m: tvm_trt.partition_for_tensorrt(m, version=8),
        TypeError,
        "TensorRT version 8 is ambiguous: give major and minor, e.g. (8, 0) or '8.0'",
    ),
    (
        "version-text",
        lambda m: tvm_trt.partition_for_tensorrt(m, version="8.x"),
        ValueError,
        "TensorRT version '8.x': expected e.g. '8.6' or '8.6.1'",
    ),
    (
        "version-long",
        lambda m: tvm_trt.partition_for_tensorrt(m, version=(8, 6, 1, 2)),
        TypeError,
        "expected 2 or 3 non-negative ints",
    ),
    (
        "params-list",
        lambda m: tvm_trt.partition_for_tensorrt(m, [1, 2]),
        TypeError,
        "params must be a dict {name: array}, got list",
    ),
    ("report-params-list", lambda m: tvm_trt.partition_report(m, [1, 2]), TypeError, "params must be a dict"),
    (
        "params-name",
        lambda m: tvm_trt.partition_for_tensorrt(m, {"w": np.zeros(3, "float32")}),
        ValueError,
        "params: 'w' is not a parameter of main; its parameters are ['x']",
    ),
    (
        "params-value",
        lambda m: tvm_trt.partition_for_tensorrt(m, {"x": "abc"}),
        TypeError,
        "params['x'] must be an array (numpy or tvm.runtime.Tensor), got str",
    ),
    (
        "params-shape",
        lambda m: tvm_trt.partition_for_tensorrt(m, {"x": np.zeros((2, 2), "float32")}),
        ValueError,
        "params['x'] is [2, 2] float32; main's parameter x is [1, 4] float32",
    ),
    (
        "params-dtype",
        lambda m: tvm_trt.partition_report(m, {"x": np.zeros((1, 4))}),
        ValueError,
        "params['x'] is [1, 4] float64; main's parameter x is [1, 4] float32",
    ),
    (
        "mod-not-a-module",
        lambda m: tvm_trt.partition_for_tensorrt("model.onnx"),
        TypeError,
        "mod must be a tvm.IRModule with a Relax function 'main', got str",
    ),
    (
        "register-unknown-op",
        lambda m: tvm_trt.register_op("relax.does_not_exist")(lambda ctx, node: None),
        ValueError,
        "register_op: TVM has no op named 'relax.does_not_exist'",
    ),
    (
        "register-not-relax",
        lambda m: tvm_trt.register_op("conv2d")(lambda ctx, node: None),
        ValueError,
        "register_op: 'conv2d' is not a Relax op name",
    ),
    (
        "register-version",
        lambda m: tvm_trt.register_op("relax.unique", min_version=7)(lambda ctx, node: None),
        TypeError,
        "TensorRT version 7 is ambiguous",
    ),
    (
        "from-onnx-negative-dim",
        lambda m: tvm_trt.frontend.from_onnx(_tiny_onnx(), shape={"x": [1, 3, -16, 16]}),
        ValueError,
        "shape['x'] = [1, 3, -16, 16]: every dim must be a positive int below 2**31",
    ),
    ("load-missing", lambda m: tvm_trt.load("missing.so"), FileNotFoundError, "library 'missing.so' not found"),
    ("load-directory", lambda m: tvm_trt.load(os.getcwd()), ValueError, "is a directory, not a library"),
    ("load-text", lambda m: tvm_trt.load(__file__), ValueError, "is not a shared library (no ELF or Mach-O header)"),
    (
        "to-json-indent-as-path",
        lambda m: tvm_trt.partition_report(m).to_json(2),
        TypeError,
        "to_json(path): path must be a file path, got int",
    ),
]


@pytest.mark.parametrize("call,exc,message", [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES])
def test_api_raises_naming_the_key(call, exc, message):
    with pytest.raises(exc) as info:
        call(_relu())
    assert message in str(info.value) and "\n" not in str(info.value)
    assert registry.get("relax.does_not_exist") is None and registry.get("relax.unique") is None


@pytest.mark.parametrize("version", [(8, 6), "8.6", "8.6.0", [8, 6]], ids=["tuple", "string", "string3", "list"])
def test_api_versions_accepted(version):
    assert tvm_trt.partition_for_tensorrt(_relu(), version=version)[1]["tensorrt_version"] == [8, 6, 0]


ENV_CASES = [
    # (id, variable, value, reader, message)
    ("fp16", "TVM_TENSORRT_USE_FP16", "maybe", lambda: engine.BuildSettings.from_env({}), "is not a boolean"),
    ("multi-engine", "TVM_TENSORRT_MULTI_ENGINE", "yes2", subgraph.multi_engine, "is not a boolean"),
    (
        "workspace",
        "TVM_TENSORRT_MAX_WORKSPACE_SIZE",
        "1e9",
        lambda: engine.BuildSettings.from_env({}),
        "is not a positive integer",
    ),
    (
        "executor",
        "TVM_TENSORRT_EXECUTOR",
        "gpu",
        subgraph.executor_mode,
        "is not allowed: use one of tensorrt, reference",
    ),
    ("log-level", "TVM_TENSORRT_LOG_LEVEL", "5", env.check_all, "is not allowed: use one of error, warning"),
]


@pytest.mark.parametrize("name,value,read,message", [c[1:] for c in ENV_CASES], ids=[c[0] for c in ENV_CASES])
def test_env_checked_where_read(monkeypatch, name, value, read, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(env.EnvError, match=f"{name}='{value}' {message}".replace("(", r"\(").replace(")", r"\)")):
        read()


def test_env_values_accepted(monkeypatch):
    monkeypatch.setenv("TVM_TENSORRT_USE_FP16", "Off")
    monkeypatch.setenv("TVM_TENSORRT_MAX_WORKSPACE_SIZE", "1<<28")
    assert engine.BuildSettings.from_env({"use_fp16": True}) == engine.BuildSettings(
        use_fp16=False, max_workspace_size=1 << 28
    )


def test_env_error_reaches_the_caller_of_the_vm(monkeypatch):
    """Read inside the runtime (the VM calls it): the message survives TVM's FFI unchanged
    (which raises it as a RuntimeError)."""
    import tvm

    vm = relax.VirtualMachine(tvm_trt.build(tvm_trt.partition_for_tensorrt(_relu())[0], "llvm"), tvm.cpu())
    monkeypatch.setenv("TVM_TENSORRT_MULTI_ENGINE", "yes2")
    monkeypatch.setenv("TVM_TENSORRT_USE_FP16", "maybe")
    with pytest.raises(RuntimeError, match="TVM_TENSORRT_USE_FP16='maybe' is not a boolean"):
        vm["main"](tvm.runtime.tensor(np.ones((1, 4), "float32")))


def test_known_options_are_one_table():
    """partition_for_tensorrt's keyword arguments are all in partition.OPTIONS."""
    import inspect

    named = [
        p for p in inspect.signature(partition.partition_for_tensorrt).parameters if p not in ("mod", "params", "extra")
    ]
    assert set(named) <= set(partition.OPTIONS)


def test_unknown_variable_is_named(files, monkeypatch):
    monkeypatch.setenv("TVM_TENSORRT_USE_FP17", "1")
    r = cli("report", files / "tiny.onnx")
    assert r.returncode == 0
    assert r.stderr.startswith("tvm-trt: warning: TVM_TENSORRT_USE_FP17 is not a variable tvm-trt reads (known: ")
