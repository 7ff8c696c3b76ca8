"""The wheel as users get it: built from the repository, installed into a fresh venv (no site packages of ours,
dependencies from the package index), `tvm-trt --version` and `tvm-trt report` run from outside the checkout, a
preset config found by name (package data)."""

import os
import subprocess
import sys
import venv

from conv_relu_onnx import conv_relu_onnx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*cmd, cwd, timeout=300):
    # Nothing of the checkout may leak in: a PYTHONPATH naming it would make pip see tvm-trt as installed already.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


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

    conv_relu_onnx(work / "small.onnx", channels=8, size=16, name="small")
    report = run(bin_dir / "tvm-trt", "report", "small.onnx", "--config", "jetson-orin", cwd=work)
    assert "2/2 ops (100.0%)" in report, report
    where = run(bin_dir / "python", "-c", "import tvm_trt; print(tvm_trt.__file__)", cwd=work)
    assert str(env_dir) in where
