"""``tvm-trt``: report, compile and run models with TensorRT offload.

    tvm-trt report model.onnx --input-shape data=1,3,224,224 --svg model.svg
    tvm-trt compile model.onnx -o model.so --target cuda --arch sm_87 --config jetson-orin
    tvm-trt run model.so --repeat 20

MODEL is an ONNX file, an MXNet checkpoint prefix (PREFIX-symbol.json + PREFIX-0000.params) or
``module:function`` returning ``(mod, params)``. ``compile`` writes ``LIB.so.json`` next to the
library (inputs, target, config) so ``run`` can make inputs and pick the device.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import io
import json
import os
import re
import sys
import tempfile
import time
from typing import Dict, List, Optional, Sequence, Tuple

from . import env, library
from .ir import error_line


class UsageError(Exception):
    """A bad path, shape or option: reported in one line, exit code 2."""


# ---- argument parsing helpers --------------------------------------------------------------


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
    from .registry import as_version

    try:
        return as_version(text)
    except (TypeError, ValueError):
        raise UsageError(f"bad --version {text!r}: expected MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. 8.6.1") from None


def load_config(name_or_path: Optional[str]) -> Dict:
    """Options from a JSON file, or from a preset shipped with the package (``--config jetson-orin``)."""
    from . import configs

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


def version_text() -> str:
    """``tvm-trt --version``: ours, TVM's and the TensorRT flavour found (or "not installed")."""
    import tvm

    from . import __version__, backend

    trt = f"{backend.flavour()} {backend.trt().__version__}" if backend.available() else "not installed"
    return f"tvm-trt {__version__}\nTVM {tvm.__version__}\nTensorRT: {trt}"


class _VersionAction(argparse.Action):
    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, help="show the versions of tvm-trt, TVM and TensorRT")

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_text())
        parser.exit()


def load_model(spec: str, shapes, simplify: Optional[bool] = None, tensorrt_parser: Optional[bool] = None):
    """(mod, params) from an ONNX file, an MXNet checkpoint prefix or ``module:function``."""
    from . import frontend

    if os.path.isfile(spec):
        check_onnx_shapes(spec, shapes)
        if not shapes:
            return frontend.from_onnx(spec, simplify=simplify, tensorrt_parser=tensorrt_parser)
        return _from_onnx_with_shapes(spec, shapes, simplify, tensorrt_parser)
    if os.path.isfile(f"{spec}-symbol.json"):
        if not shapes:
            raise UsageError(f"MXNet model {spec!r} needs --input-shape for every input")
        return _from_mxnet(spec, shapes)
    module_name, sep, func_name = spec.partition(":")
    if sep and module_name and func_name:
        return _from_function(spec, module_name, func_name)
    raise UsageError(
        f"MODEL {spec!r} not found: expected an .onnx file, an MXNet prefix with {spec}-symbol.json, "
        "or module:function"
    )


def _simplify(args) -> Optional[bool]:
    return False if args.no_simplify else None


def _tensorrt_parser(args) -> Optional[bool]:
    return {"auto": None, "always": True, "never": False}[args.tensorrt_parser]


def check_onnx_shapes(path: str, shapes) -> None:
    """--input-shape must keep each input's rank (TVM's importer would fail deep inside)."""
    if not shapes:
        return
    import onnx

    try:
        model = onnx.load(path, load_external_data=False)
    except Exception:
        return  # the frontend reports unreadable files
    for inp in model.graph.input:
        if inp.name not in shapes or not inp.type.tensor_type.HasField("shape"):
            continue
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in inp.type.tensor_type.shape.dim]
        given = list(shapes[inp.name])
        if len(dims) != len(given):
            raise UsageError(
                f"--input-shape {inp.name}={','.join(map(str, given))} does not fit the model's input "
                f"{inp.name} of shape [{', '.join(map(str, dims))}]"
            )


@contextlib.contextmanager
def _captured_output():
    """Python's and the C++ side's stdout/stderr, as text (TVM's importer prints and logs when an
    operator does not convert); the caller re-emits it when it is not replacing it by one line."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    text = []
    with tempfile.TemporaryFile(mode="w+") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                yield text
        finally:
            gc.collect()  # TVM's BlockBuilder logs when the failed import's builder goes
            sink.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.seek(0)
            text.append(sink.read())


def _from_onnx_with_shapes(path: str, shapes, simplify: Optional[bool] = None, tensorrt_parser: Optional[bool] = None):
    """Fixed dims may be overridden (a batch of 8 for a model exported with 1); when TVM's importer
    then cannot convert an operator, one line says which shape did not fit and why."""
    from . import frontend

    failure = None
    with _captured_output() as captured:
        try:
            model = frontend.from_onnx(path, shape=shapes, simplify=simplify, tensorrt_parser=tensorrt_parser)
        except frontend.ONNXImportError as err:  # TVM's importer failed: the error names the op
            failure = (err.reason, err.op)
        except (ValueError, TypeError, RuntimeError) as err:  # TVM's errors derive from these
            failure = (error_line(err), None)
    noise = "".join(captured)
    if failure is None:
        sys.stderr.write(noise)
        return model
    reason, op = failure  # from_onnx already took the op's name out of TVM's printout
    where = f" at {op}" if op else ""
    raise UsageError(f"the model does not take --input-shape {_shapes_text(shapes)}{where}: {reason}")


def _shapes_text(shapes) -> str:
    """``{"x": (1, 3)}`` as the user typed it: ``x=1,3``."""
    return " ".join(f"{k}={','.join(map(str, v))}" for k, v in shapes.items())


def _from_mxnet(prefix: str, shapes):
    from . import frontend

    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):  # MXNet prints every argument's shape on failure
            model = frontend.from_mxnet(prefix, shape=shapes)
    except Exception as err:
        if type(err).__name__ != "MXNetError":
            sys.stdout.write(printed.getvalue())
            raise
        # MXNet's message is its whole C++ stack; the line naming the failing operator is the one to keep
        lines = [re.sub(r"\[\d\d:\d\d:\d\d\] \S+:\d+: ", "", ln.strip()) for ln in str(err).splitlines() if ln.strip()]
        key = next((ln for ln in lines if "Error in operator" in ln or "Check failed" in ln), lines[0] if lines else "")
        raise UsageError(f"MXNet model {prefix!r} does not accept --input-shape {_shapes_text(shapes)}: {key}") from None
    sys.stdout.write(printed.getvalue())
    return model


def _from_function(spec: str, module_name: str, func_name: str):
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # `tvm-trt report mymodel:build` finds ./mymodel.py
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise UsageError(f"cannot import {module_name!r} for MODEL {spec!r}: {err}") from None
    func = getattr(module, func_name, None)
    if not callable(func):
        raise UsageError(f"{module_name!r} has no function {func_name!r}")
    result = func()
    if not (isinstance(result, tuple) and len(result) == 2):
        raise UsageError(f"{spec} must return (mod, params), got {type(result).__name__}")
    return result


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


# ---- commands ------------------------------------------------------------------------------


def cmd_report(args) -> int:
    from .report import partition_report

    mod, params = load_model(args.model, parse_shapes(args.input_shape), _simplify(args), _tensorrt_parser(args))
    report = partition_report(mod, params, **partition_options(args))
    print(report)
    if args.json:
        _write(args.json, report.to_json())
    if args.svg:
        _write(args.svg, report.to_svg(detail=args.detail))
    return 0


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w") as f:
            f.write(text)
    except OSError as err:
        raise UsageError(f"cannot write {path!r}: {err.strerror}") from None


def _inputs_of(mod) -> List[Dict]:
    from . import ir

    return [{"name": p.name, "shape": ir.dims(p.ty), "dtype": str(p.ty.dtype)} for p in mod["main"].params]


def cmd_compile(args) -> int:
    import tvm_trt

    from .report import partition_with_report

    options = partition_options(args)
    out_dir = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(out_dir):
        raise UsageError(f"output directory {out_dir!r} does not exist")
    target = make_target(args.target, args.arch, args.host_triple or triple_of(args.cc))
    mod, params = load_model(args.model, parse_shapes(args.input_shape), _simplify(args), _tensorrt_parser(args))
    pmod, config, report = partition_with_report(mod, params, **options)
    start = time.perf_counter()
    ex = tvm_trt.build(pmod, target)
    ex.export_library(args.output, **({"cc": args.cc} if args.cc else {}))
    meta = {
        "target": args.target,
        "arch": args.arch,
        "inputs": _inputs_of(pmod),
        "config": config,
        "library": library.fingerprint(args.output),  # run refuses a truncated or replaced file
    }
    _write(args.output + ".json", json.dumps(meta, indent=2))
    print(
        f"{args.output}: {report.ops_offloaded}/{report.ops_total} ops in {len(report.subgraphs)} TensorRT "
        f"subgraph(s), target {target.kind.name}, built in {time.perf_counter() - start:.1f}s"
    )
    return 0


def _load_inputs(items: Optional[Sequence[str]]) -> Dict:
    import numpy as np

    arrays = {}
    for item in items or []:
        name, sep, path = item.partition("=")
        if not sep or not name:
            raise UsageError(f"bad --input {item!r}: expected NAME=file.npy")
        try:
            arrays[name] = np.load(path)
        except (OSError, ValueError) as err:
            raise UsageError(f"cannot read input {name!r} from {path!r}: {err}") from None
        if not isinstance(arrays[name], np.ndarray):
            raise UsageError(f"input {name!r}: {path!r} holds several arrays (.npz); give one .npy per input")
    return arrays


def check_input(name: str, array, spec: Dict, cast: bool):
    """The array for input ``name`` as the model takes it: same rank, the fixed dims equal
    (symbolic ones any size), same dtype unless ``cast``."""
    shape = spec["shape"]
    fits = len(array.shape) == len(shape) and all(
        not isinstance(d, int) or d == g for d, g in zip(shape, array.shape)
    )
    if not fits:
        raise UsageError(
            f"input {name!r} has shape {list(array.shape)}, the model takes {shape}"
            + (" (named dims: any size)" if any(isinstance(d, str) for d in shape) else "")
        )
    if str(array.dtype) != spec["dtype"]:
        if not cast:
            raise UsageError(
                f"input {name!r} is {array.dtype}, the model takes {spec['dtype']} (--cast converts it)"
            )
        array = array.astype(spec["dtype"])
    return array


def _read_meta(lib: str) -> Dict:
    path = lib + ".json"
    if not os.path.isfile(path):
        return {}
    try:
        with open(path) as f:
            meta = json.load(f)
    except (OSError, ValueError) as err:
        raise UsageError(f"cannot read {path!r} (written by compile): {err}") from None
    if not isinstance(meta, dict):
        raise UsageError(f"{path!r} is not the JSON object compile writes")
    return meta


def cmd_run(args) -> int:
    import numpy as np
    import tvm
    from tvm import relax

    import tvm_trt  # noqa: F401  (registers the runtime the library's TensorRT stubs call)

    if not os.path.isfile(args.library):
        raise UsageError(f"library {args.library!r} not found")
    meta = _read_meta(args.library)
    library.check(args.library, meta.get("library"))  # before TVM maps it: a truncated file faults
    given = _load_inputs(args.input)
    specs = meta.get("inputs") or [{"name": n, "shape": list(a.shape), "dtype": str(a.dtype)} for n, a in given.items()]
    if not specs:
        raise UsageError(f"no {args.library}.json beside the library: give every input with --input NAME=file.npy")
    unknown = set(given) - {s["name"] for s in specs}
    if unknown:
        raise UsageError(f"unknown input(s) {sorted(unknown)}; the model's inputs are {[s['name'] for s in specs]}")

    rng = np.random.default_rng(0)
    arrays = []
    for s in specs:
        if s["name"] in given:
            arrays.append(check_input(s["name"], given[s["name"]], s, args.cast))
        else:
            shape = [d if isinstance(d, int) else 1 for d in s["shape"]]  # symbolic dims: 1
            arrays.append(rng.standard_normal(shape).astype(s["dtype"]))

    on_cuda = meta.get("target") == "cuda"
    if on_cuda and not tvm.cuda(0).exist:
        raise UsageError(f"{args.library} was built for cuda but no CUDA GPU is visible")
    dev = tvm.cuda(0) if on_cuda else tvm.cpu()
    try:
        lib = tvm.runtime.load_module(args.library)
        vm = relax.VirtualMachine(lib, dev)
    except Exception as err:  # a shared library, but not one tvm.compile exported
        raise UsageError(f"{args.library} is not a library exported by tvm-trt compile ({error_line(err)})") from None
    tensors = [tvm.runtime.tensor(a, dev) for a in arrays]
    out = vm["main"](*tensors)  # first call builds or loads the TensorRT engines
    times = []
    for _ in range(max(args.repeat, 1)):
        start = time.perf_counter()
        out = vm["main"](*tensors)
        dev.sync()
        times.append(time.perf_counter() - start)
    outputs = [out] if isinstance(out, tvm.runtime.Tensor) else list(out)
    for i, o in enumerate(outputs):
        a = o.numpy()
        print(
            f"output {i}: shape {list(a.shape)} {a.dtype} min {a.min():.6g} max {a.max():.6g} "
            f"mean {a.mean():.6g}"
        )
    times.sort()
    if env.executor() == "reference":
        print("TensorRT subgraphs were evaluated by the reference executor (TVM_TENSORRT_EXECUTOR=reference)")
    print(f"latency on {dev}: median {1e3 * times[len(times) // 2]:.3f} ms over {len(times)} run(s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tvm-trt", description="TensorRT offload for Apache TVM (Relax)")
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", required=True)

    def model_args(p):
        p.add_argument("model", help="ONNX file, MXNet checkpoint prefix, or module:function")
        p.add_argument("--input-shape", action="append", metavar="NAME=D1,D2,...", help="repeatable")
        p.add_argument("--version", help="target TensorRT version, e.g. 8.6.1 (default: the installed one)")
        p.add_argument("--no-implicit-batch", action="store_true", help="allow ops on the batch axis")
        p.add_argument("--no-simplify", action="store_true",
                       help="import the ONNX file as it is (default: ONNX shape inference + onnxslim when installed)")
        p.add_argument("--tensorrt-parser", choices=("auto", "always", "never"), default="auto",
                       help="TensorRT's own ONNX parser runs the whole model: where TVM's importer refuses it "
                            "(auto), always, or never")
        p.add_argument("--config", metavar="NAME|FILE.json",
                       help="partition_for_tensorrt options: a preset (jetson-orin, server) or a JSON file")

    p = sub.add_parser("report", help="show what TensorRT would take and why the rest stays in TVM")
    model_args(p)
    p.add_argument("--json", metavar="FILE", help="write the report as JSON")
    p.add_argument("--svg", metavar="FILE", help="draw the graph: one box per TensorRT subgraph, TVM ops between")
    p.add_argument("--detail", action="store_true", help="with --svg: one box per op")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("compile", help="partition, build and export a library")
    model_args(p)
    p.add_argument("-o", "--output", required=True, metavar="LIB.so")
    p.add_argument("--target", choices=("cuda", "llvm"), default="cuda")
    p.add_argument("--arch", help="CUDA arch, e.g. sm_87 (Jetson Orin)")
    p.add_argument("--fp16", action="store_true", help="let TensorRT use FP16")
    p.add_argument("--cc", help="cross compiler to link with, e.g. aarch64-linux-gnu-g++")
    p.add_argument("--host-triple", help="LLVM triple of the host code (default: derived from --cc)")
    p.add_argument("--build-at-compile-time", action="store_true", help="build TensorRT engines now")
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser("run", help="run an exported library on random or given inputs")
    p.add_argument("library")
    p.add_argument("--input", action="append", metavar="NAME=FILE.npy", help="repeatable; default random")
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--cast", action="store_true", help="convert inputs of another dtype (default: refuse them)")
    p.set_defaults(func=cmd_run)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        from .progress import configure_logging

        for name in env.check_all():  # a bad TVM_TENSORRT_* value is named before any work
            print(f"tvm-trt: warning: {name} is not a variable tvm-trt reads (known: {', '.join(env.CHECKS)})",
                  file=sys.stderr)
        configure_logging()
        return args.func(args)
    except (UsageError, FileNotFoundError, ValueError, TypeError, ImportError) as err:
        print(f"tvm-trt {args.command}: error: {error_line(err)}", file=sys.stderr)
        return 2
    except RuntimeError as err:  # TensorRT missing or refusing a subgraph: not a usage error
        print(f"tvm-trt {args.command}: failed: {error_line(err)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
