"""Shared by the ``tvm-trt`` commands: the one-line usage error, shapes/version/config parsing, options and targets."""

from __future__ import annotations

import contextlib
import os
import shutil
from typing import Dict, Optional, Sequence, Tuple

MAX_DIM = 2**31 - 1  # TensorRT's dims are int32 (and no real tensor has 2**31 elements along one axis)


class UsageError(Exception):
    """A bad path, shape or option: reported in one line, exit code 2."""


def parse_shapes(items: Optional[Sequence[str]]) -> Optional[Dict[str, Tuple[int, ...]]]:
    if not items:
        return None
    shapes = {}
    for item in items:
        name, sep, dims = item.partition("=")
        try:
            if not sep or not name:
                raise ValueError
            if name in shapes:
                raise UsageError(
                    f"--input-shape {name}=... is given twice ({name}={','.join(map(str, shapes[name]))} "
                    f"and {item}): give each input once"
                )
            shapes[name] = tuple(int(d) for d in dims.split(","))
            if any(d <= 0 for d in shapes[name]):
                raise ValueError
        except ValueError:
            raise UsageError(f"bad --input-shape {item!r}: expected NAME=D1,D2,... with positive ints") from None
        if any(d > MAX_DIM for d in shapes[name]):
            raise UsageError(f"bad --input-shape {item!r}: a dim above {MAX_DIM} (TensorRT dims are 32-bit)")
    return shapes


def parse_version(text: Optional[str]) -> Optional[Tuple[int, int, int]]:
    if text is None:
        return None
    from ..core.registry import as_version

    try:
        return as_version(text)  # one that does not exist yet is warned about where options are checked
    except (TypeError, ValueError):
        raise UsageError(f"bad --version {text!r}: expected MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. 8.6.1") from None


def load_config(name_or_path: Optional[str]) -> Dict:
    """Options from a JSON file, or from a preset shipped with the package (``--config jetson-orin``)."""
    from .. import configs

    if name_or_path is None:
        return {}
    try:
        return configs.load(name_or_path)
    except OSError as err:
        raise UsageError(
            f"cannot read config {name_or_path!r}: {err.strerror}; the presets are {configs.names()}"
        ) from None
    except ValueError as err:
        raise UsageError(str(err)) from None


def partition_options(args) -> Dict:
    options = load_config(getattr(args, "config", None))
    version = parse_version(args.version)
    if version is not None:
        options["version"] = version
    if args.no_implicit_batch:
        options["use_implicit_batch"] = False
    if getattr(args, "fp16", False):
        options["use_fp16"] = True
    if getattr(args, "build_at_compile_time", False):
        options["build_at_compile_time"] = True
    return options


def make_target(kind: str, arch: Optional[str], host_triple: Optional[str]):
    import tvm

    host = {"kind": "llvm"}
    if host_triple:
        host["mtriple"] = host_triple
    if kind == "llvm":
        if arch:
            raise UsageError("--arch applies to --target cuda only")
        return tvm.target.Target(host)
    if not arch:  # TVM would silently pick sm_50, which no TensorRT of ours supports
        raise UsageError(
            "--target cuda needs --arch, the GPU the library is for (e.g. sm_87 for Jetson Orin, "
            "sm_86 for RTX 30xx, sm_90 for H100)"
        )
    if not (arch.startswith("sm_") and arch[3:].isdigit()):
        raise UsageError(f"bad --arch {arch!r}: expected e.g. sm_87")
    return tvm.target.Target({"kind": "cuda", "arch": arch}, host=host)


def check_compiler(cc: Optional[str]) -> None:
    if cc and shutil.which(cc) is None:
        raise UsageError(f"--cc {cc!r}: no such compiler on PATH")


def check_output(path: str, inputs: Sequence[str], what: str, force: bool, library: bool = False) -> None:
    """An output must not overwrite an input, a directory, or (without --force) a file that is not
    what this command writes: a model given as ``-o`` by mistake would be lost."""
    from ..runtime.library_check import LibraryError, check

    real = os.path.realpath(path)
    if os.path.isdir(path):
        raise UsageError(f"{what} {path!r} is a directory; give a file path")
    if any(os.path.exists(p) and os.path.realpath(p) == real for p in inputs if p):
        raise UsageError(f"{what} {path!r} is the model given as input; choose another path")
    if not os.path.isdir(os.path.dirname(real)):
        raise UsageError(f"output directory {os.path.dirname(real)!r} does not exist")
    if os.path.exists(path) and not force:
        if library:
            try:
                check(path)
                return  # a library: recompiling over it is the normal loop
            except (LibraryError, OSError):
                pass
            raise UsageError(f"{what} {path!r} exists and is not a library; --force overwrites it")
    if not os.access(os.path.dirname(real), os.W_OK):
        raise UsageError(f"cannot write {what} {path!r}: directory not writable")


def triple_of(cc: Optional[str]) -> Optional[str]:
    """aarch64-linux-gnu-g++ -> aarch64-linux-gnu (the host code must match the linker)."""
    if not cc:
        return None
    base = os.path.basename(cc)
    for suffix in ("-g++", "-gcc", "-c++", "-clang++", "-clang"):
        if base.endswith(suffix) and base.count("-") >= 2:
            return base[: -len(suffix)]
    return None


def write_file(path: str, text: str) -> None:
    """Written whole or not at all (a temporary file renamed into place): Ctrl-C leaves no half file."""
    with output_file(path) as tmp:
        try:
            with open(tmp, "w") as f:
                f.write(text)
        except OSError as err:
            raise UsageError(f"cannot write {path!r}: {err.strerror}") from None


@contextlib.contextmanager
def output_file(path: str):
    """A temporary path beside ``path``, renamed to it when the block succeeds and removed otherwise."""
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except IsADirectoryError:
        raise UsageError(f"cannot write {path!r}: it is a directory") from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
