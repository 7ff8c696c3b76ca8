"""``tvm-trt compile``: partition, build and export a library (+ ``LIB.so.json``)."""
from __future__ import annotations

import json
import os
import time
from typing import Dict, List

from ..runtime import library_check
from .common import UsageError, make_target, parse_shapes, partition_options, triple_of, write_file
from .models import load_model, simplify_option


def _inputs_of(mod) -> List[Dict]:
    from ..core import ir

    return [{"name": p.name, "shape": ir.dims(p.ty), "dtype": str(p.ty.dtype)} for p in mod["main"].params]


def cmd_compile(args) -> int:
    import tvm_trt

    from ..report import partition_with_report

    options = partition_options(args)
    out_dir = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(out_dir):
        raise UsageError(f"output directory {out_dir!r} does not exist")
    target = make_target(args.target, args.arch, args.host_triple or triple_of(args.cc))
    mod, params = load_model(args.model, parse_shapes(args.input_shape), simplify_option(args))
    pmod, config, report = partition_with_report(mod, params, **options)
    start = time.perf_counter()
    ex = tvm_trt.build(pmod, target)
    ex.export_library(args.output, **({"cc": args.cc} if args.cc else {}))
    meta = {
        "target": args.target,
        "arch": args.arch,
        "inputs": _inputs_of(pmod),
        "config": config,
        "library": library_check.fingerprint(args.output),  # run refuses a truncated or replaced file
    }
    write_file(args.output + ".json", json.dumps(meta, indent=2))
    print(
        f"{args.output}: {report.ops_offloaded}/{report.ops_total} ops in {len(report.subgraphs)} TensorRT "
        f"subgraph(s), target {target.kind.name}, built in {time.perf_counter() - start:.1f}s"
    )
    return 0
