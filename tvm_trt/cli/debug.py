"""``tvm-trt debug``: which layer of the TensorRT network loses accuracy in FP16 / INT8 (no GPU needed)."""

from __future__ import annotations

from .common import UsageError, parse_shapes, partition_options, write_file
from .models import load_model, simplify_option
from .run import _load_inputs


def cmd_debug(args) -> int:
    from ..debug import compare, random_inputs

    mod, params = load_model(args.model, parse_shapes(args.input_shape), simplify_option(args))
    given = _load_inputs(args.input)
    names = [p.name for p in mod["main"].params if p.name not in (params or {})]
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise UsageError(f"--input {unknown[0]!r}: the model's inputs are {names}")
    inputs = None
    if given:
        defaults = random_inputs(mod, params)
        inputs = [given.get(name, default) for name, default in zip(names, defaults)]
        for name, array, default in zip(names, inputs, defaults):
            if array.shape != default.shape or array.dtype != default.dtype:
                raise UsageError(
                    f"--input {name!r} is {list(array.shape)} {array.dtype}; "
                    f"the model takes {list(default.shape)} {default.dtype}"
                )
    options = partition_options(args)
    report = compare(
        mod, params, inputs, precision=args.precision, tolerance=args.tolerance, suggest=not args.no_suggest, **options
    )
    print(report.to_text())
    if args.json:
        write_file(args.json, report.to_json())
    if args.plot:
        report.plot(args.plot)
    return 0
