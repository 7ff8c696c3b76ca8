"""``tvm-trt compile``: partition, build and export a library (+ ``LIB.so.json``)."""

from __future__ import annotations

import json
import os
import time
from typing import Dict, List

from ..core.ir import error_line
from ..runtime import library_check
from .common import (
    UsageError,
    check_compiler,
    check_output,
    make_target,
    output_file,
    parse_shapes,
    partition_options,
    triple_of,
    write_file,
)
from .models import load_model, simplify_option, tensorrt_parser_option


def _inputs_of(mod) -> List[Dict]:
    from ..core import ir

    return [{"name": p.name, "shape": ir.dims(p.ty), "dtype": str(p.ty.dtype)} for p in mod["main"].params]


def _export(ex, path: str, cc) -> None:
    """Export through a temporary file (no half library on Ctrl-C or failure), with the linker's own
    reason when it fails (TVM's message is only "Compilation error:" followed by the compiler output)."""
    with output_file(path) as tmp:
        try:
            ex.export_library(tmp, **({"cc": cc} if cc else {}))
        except Exception as err:
            text = str(err)
            cause = next(
                (ln.strip() for ln in text.splitlines() if "error" in ln.lower() and "Compilation error" not in ln),
                None,
            ) or error_line(err)
            raise UsageError(f"cannot link {path!r}{f' with {cc}' if cc else ''}: {cause}") from None


def cmd_compile(args) -> int:
    import tvm_trt

    from ..report import partition_with_report

    options = partition_options(args)
    check_output(args.output, [args.model], "library -o", args.force, library=True)
    check_compiler(args.cc)
    target = make_target(args.target, args.arch, args.host_triple or triple_of(args.cc))
    mod, params = load_model(
        args.model, parse_shapes(args.input_shape), simplify_option(args), tensorrt_parser_option(args)
    )
    pmod, config, report = partition_with_report(mod, params, **options)
    start = time.perf_counter()
    try:
        ex = tvm_trt.build(pmod, target)
    except Exception as err:  # e.g. an LLVM triple the host cannot generate code for
        if args.host_triple or args.cc:
            raise UsageError(
                f"cannot build for host {args.host_triple or triple_of(args.cc)!r}: {error_line(err)}"
            ) from None
        raise
    _export(ex, args.output, args.cc)
    meta = {
        "target": args.target,
        "arch": args.arch,
        "inputs": _inputs_of(pmod),
        "input_ranges": _index_ranges(mod),
        "model": os.path.abspath(args.model) if os.path.isfile(args.model) else None,
        "config": config,
        "library": library_check.fingerprint(args.output),  # run refuses a truncated or replaced file
    }
    write_file(args.output + ".json", json.dumps(meta, indent=2))
    print(
        f"{args.output}: {report.ops_offloaded}/{report.ops_total} ops in {len(report.subgraphs)} TensorRT "
        f"subgraph(s), target {target.kind.name}, built in {time.perf_counter() - start:.1f}s"
    )
    return 0


def _index_ranges(mod) -> Dict[str, int]:
    """Integer inputs used as indices into a table (embedding ids): input name -> table size, so that
    ``run``'s random inputs stay in range."""
    from .input_ranges import index_ranges

    return index_ranges(mod)
