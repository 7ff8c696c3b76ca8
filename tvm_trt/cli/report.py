"""``tvm-trt report``: what TensorRT would take and why the rest stays in TVM."""
from __future__ import annotations


from .common import parse_shapes, partition_options, write_file
from .models import load_model, simplify_option


def cmd_report(args) -> int:
    from ..report import partition_report

    mod, params = load_model(args.model, parse_shapes(args.input_shape), simplify_option(args))
    report = partition_report(mod, params, **partition_options(args))
    print(report)
    if args.json:
        write_file(args.json, report.to_json())
    if args.svg:
        write_file(args.svg, report.to_svg(detail=args.detail))
    return 0
