"""The wheel as users get it: built from the repository, installed into a fresh venv (no site packages of ours,
dependencies from the package index), `tvm-trt --version` and `tvm-trt report` run from outside the checkout, a
preset config found by name (package data)."""

import os
import subprocess
import sys
import venv

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*cmd, cwd, timeout=300):
    # Nothing of the checkout may leak in: a PYTHONPATH naming it would make pip see tvm-trt as installed already.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def small_onnx(path):
    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((8, 3, 3, 3)).astype("float32"), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["y"])]
    graph = helper.make_graph(
        nodes,
        "small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 16, 16])],
        [w],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))


def test_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    # --no-isolation: the build backend (setuptools) comes from this environment instead of a download.
    run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", tmp_path / "dist", ROOT, cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("tvm_trt-*.whl")

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True, system_site_packages=False)
    bin_dir = env_dir / "bin"
    run(bin_dir / "python", "-m", "pip", "install", "--quiet", f"{wheel}[rtx]", cwd=tmp_path, timeout=600)

    work = tmp_path / "elsewhere"
    work.mkdir()
    version = run(bin_dir / "tvm-trt", "--version", cwd=work).splitlines()
    assert version[0].startswith("tvm-trt ") and version[1].startswith("TVM 0.27")
    assert version[2].startswith("TensorRT: tensorrt-rtx 1."), version

    small_onnx(work / "small.onnx")
    report = run(bin_dir / "tvm-trt", "report", "small.onnx", "--config", "jetson-orin", cwd=work)
    assert "2/2 ops (100.0%)" in report, report
    where = run(bin_dir / "python", "-c", "import tvm_trt; print(tvm_trt.__file__)", cwd=work)
    assert str(env_dir) in where
