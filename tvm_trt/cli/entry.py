"""``tvm-trt``: report, compile and run models with TensorRT offload.

    tvm-trt report model.onnx --input-shape data=1,3,224,224 --svg model.svg
    tvm-trt compile model.onnx -o model.so --target cuda --arch sm_87 --config jetson-orin
    tvm-trt run model.so --repeat 20
    tvm-trt debug model.onnx --precision fp16 --json r.json --plot r.png

MODEL is an ONNX file, an MXNet checkpoint prefix (PREFIX-symbol.json + PREFIX-0000.params) or
``module:function`` returning ``(mod, params)``. ``compile`` writes ``LIB.so.json`` next to the
library (inputs, target, config) so ``run`` can make inputs and pick the device.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from ..core import env
from ..core.ir import error_line
from .common import UsageError
from .compile import cmd_compile
from .debug import cmd_debug
from .report import cmd_report
from .run import cmd_run


def version_text() -> str:
    """``tvm-trt --version``: ours, TVM's and the TensorRT flavour found (or "not installed")."""
    import tvm

    from .. import __version__
    from ..core import tensorrt

    trt = f"{tensorrt.flavour()} {tensorrt.trt().__version__}" if tensorrt.available() else "not installed"
    return f"tvm-trt {__version__}\nTVM {tvm.__version__}\nTensorRT: {trt}"


class _VersionAction(argparse.Action):
    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, help="show the versions of tvm-trt, TVM and TensorRT")

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_text())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tvm-trt", description="TensorRT offload for Apache TVM (Relax)")
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", required=True)

    def add_parser(name, **kwargs):
        p = sub.add_parser(name, **kwargs)
        p.add_argument("--debug", action="store_true", help="show the Python traceback of an error")
        return p

    def model_args(p):
        p.add_argument("model", help="ONNX file, MXNet checkpoint prefix, or module:function")
        p.add_argument("--input-shape", action="append", metavar="NAME=D1,D2,...", help="repeatable")
        p.add_argument("--version", help="target TensorRT version, e.g. 8.6.1 (default: the installed one)")
        p.add_argument("--no-implicit-batch", action="store_true", help="allow ops on the batch axis")
        p.add_argument(
            "--no-simplify",
            action="store_true",
            help="import the ONNX file as it is (default: ONNX shape inference + onnxslim when installed)",
        )
        p.add_argument(
            "--tensorrt-parser",
            choices=("auto", "always", "never"),
            default="auto",
            help="TensorRT's own ONNX parser runs the whole model: where TVM's importer refuses it "
            "(auto), always, or never",
        )
        p.add_argument(
            "--config",
            metavar="NAME|FILE.json",
            help="partition_for_tensorrt options: a preset (jetson-orin, rtx-aot, server) or a JSON file",
        )

    p = add_parser("report", help="show what TensorRT would take and why the rest stays in TVM")
    model_args(p)
    p.add_argument("--json", metavar="FILE", help="write the report as JSON")
    p.add_argument("--svg", metavar="FILE", help="draw the graph: one box per TensorRT subgraph, TVM ops between")
    p.add_argument("--detail", action="store_true", help="with --svg: one box per op")
    p.set_defaults(func=cmd_report)

    p = add_parser("compile", help="partition, build and export a library")
    model_args(p)
    p.add_argument("-o", "--output", required=True, metavar="LIB.so")
    p.add_argument("--force", action="store_true", help="overwrite an existing file that is not a library")
    p.add_argument("--target", choices=("cuda", "llvm"), default="cuda")
    p.add_argument("--arch", help="CUDA arch, e.g. sm_87 (Jetson Orin)")
    p.add_argument("--fp16", action="store_true", help="let TensorRT use FP16")
    p.add_argument("--cc", help="cross compiler to link with, e.g. aarch64-linux-gnu-g++")
    p.add_argument("--host-triple", help="LLVM triple of the host code (default: derived from --cc)")
    p.add_argument("--build-at-compile-time", action="store_true", help="build TensorRT engines now")
    p.set_defaults(func=cmd_compile)

    p = add_parser("run", help="run an exported library on random or given inputs")
    p.add_argument("library")
    p.add_argument("--input", action="append", metavar="NAME=FILE.npy", help="repeatable; default random")
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--cast", action="store_true", help="convert inputs of another dtype (default: refuse them)")
    p.add_argument("--save", metavar="OUT.npz", help="write the outputs (output_0, output_1, ...)")
    p.add_argument(
        "--compare",
        metavar="onnxruntime|REF.npz",
        help="print max abs/rel error per output against onnxruntime on the ONNX model compiled, or "
        "against outputs saved with --save",
    )
    p.set_defaults(func=cmd_run)

    p = add_parser("debug", help="compare every TensorRT layer in FP16/INT8 with TVM float32 (no GPU needed)")
    model_args(p)
    p.add_argument(
        "--input",
        action="append",
        metavar="NAME=FILE.npy",
        help="repeatable; default random data (real inputs show the activations that matter)",
    )
    p.add_argument("--precision", choices=("fp32", "fp16", "int8"), default="fp16")
    p.add_argument(
        "--tolerance", type=float, default=1e-2, help="max |err| / max |float32 value| a layer may reach (default 1e-2)"
    )
    p.add_argument("--no-suggest", action="store_true", help="do not rebuild to find fp32_ops")
    p.add_argument("--json", metavar="FILE", help="write the report as JSON")
    p.add_argument("--plot", metavar="FILE.png", help="draw the error per layer (needs matplotlib: the plot extra)")
    p.set_defaults(func=cmd_debug)
    return parser


def _one_line_warnings(message, category, filename, lineno, file=None, line=None):
    # the CLI's warnings read like its errors: no source file, no source line
    print(f"tvm-trt: warning: {message}", file=file or sys.stderr)


def main(argv: Optional[Sequence[str]] = None) -> int:
    import warnings

    parser = build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings():  # restores Python's warning display when main() returns (in-process use)
        return _run(args)


def _run(args) -> int:
    import warnings

    command = args.command
    try:
        from ..core.progress import configure_logging

        if not getattr(args, "debug", False):
            warnings.showwarning = _one_line_warnings
        for name in env.check_all():  # a bad TVM_TENSORRT_* value is named before any work
            print(
                f"tvm-trt: warning: {name} is not a variable tvm-trt reads (known: {', '.join(env.CHECKS)})",
                file=sys.stderr,
            )
        configure_logging()
        return args.func(args)
    except KeyboardInterrupt:
        print(f"tvm-trt {command}: interrupted", file=sys.stderr)
        return 130
    except (UsageError, FileNotFoundError, ValueError, TypeError, ImportError, SyntaxError) as err:
        if getattr(args, "debug", False):
            raise
        print(f"tvm-trt {command}: error: {error_line(err)}", file=sys.stderr)
        return 2
    except Exception as err:  # TensorRT missing or refusing a subgraph, or a bug of ours: not a usage error
        if getattr(args, "debug", False):
            raise
        if isinstance(err, RuntimeError):
            print(f"tvm-trt {command}: failed: {error_line(err)}", file=sys.stderr)
        else:  # not an error we raise on purpose: a bug
            print(
                f"tvm-trt {command}: failed: {type(err).__name__}: {error_line(err)} (--debug shows the traceback)",
                file=sys.stderr,
            )
        return 1


if __name__ == "__main__":
    sys.exit(main())
