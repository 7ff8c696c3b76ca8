"""``tvm-trt report``: what TensorRT would take and why the rest stays in TVM."""

from __future__ import annotations


from .common import UsageError, check_output, parse_shapes, partition_options, write_file
from .models import load_model, simplify_option, tensorrt_parser_option


def cmd_report(args) -> int:
    from ..report import partition_report

    if args.detail and not args.svg:
        raise UsageError("--detail draws one box per op in the --svg picture: give --svg FILE too")
    for flag, path in (("--json", args.json), ("--svg", args.svg)):
        if path:  # checked before the report's work, not after it
            check_output(path, [args.model], flag, force=True)
    mod, params = load_model(
        args.model, parse_shapes(args.input_shape), simplify_option(args), tensorrt_parser_option(args)
    )
    report = partition_report(mod, params, **partition_options(args))
    print(report)
    if args.json:
        write_file(args.json, report.to_json())
    if args.svg:
        write_file(args.svg, report.to_svg(detail=args.detail))
    return 0
