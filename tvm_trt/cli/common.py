"""Shared by the ``tvm-trt`` commands: the one-line usage error, shapes/version/config parsing, options and targets."""
from __future__ import annotations

import os
from typing import Dict, Optional, Sequence, Tuple




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
            shapes[name] = tuple(int(d) for d in dims.split(","))
            if any(d <= 0 for d in shapes[name]):
                raise ValueError
        except ValueError:
            raise UsageError(f"bad --input-shape {item!r}: expected NAME=D1,D2,... with positive ints") from None
    return shapes


def parse_version(text: Optional[str]) -> Optional[Tuple[int, int, int]]:
    if text is None:
        return None
    from ..core.registry import as_version

    try:
        return as_version(text)
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
    spec = {"kind": "cuda"}
    if arch:
        if not (arch.startswith("sm_") and arch[3:].isdigit()):
            raise UsageError(f"bad --arch {arch!r}: expected e.g. sm_87")
        spec["arch"] = arch
    return tvm.target.Target(spec, host=host)


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
    try:
        with open(path, "w") as f:
            f.write(text)
    except OSError as err:
        raise UsageError(f"cannot write {path!r}: {err.strerror}") from None
