"""``tvm-trt run``: check and load an exported library, run it on random or given inputs."""

from __future__ import annotations

import os
import time
from typing import Dict, Optional, Sequence

from ..core import env
from ..core.ir import error_line
from ..runtime import library_check
from .common import UsageError, check_output, output_file
from .compare import check_reference, compare_outputs


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
    fits = len(array.shape) == len(shape) and all(not isinstance(d, int) or d == g for d, g in zip(shape, array.shape))
    if not fits:
        raise UsageError(
            f"input {name!r} has shape {list(array.shape)}, the model takes {shape}"
            + (" (named dims: any size)" if any(isinstance(d, str) for d in shape) else "")
        )
    if str(array.dtype) != spec["dtype"]:
        if not cast:
            raise UsageError(f"input {name!r} is {array.dtype}, the model takes {spec['dtype']} (--cast converts it)")
        array = array.astype(spec["dtype"])
    return array


def _read_meta(lib: str) -> Dict:
    from ..runtime.library_check import LibraryError
    from ..runtime.loader import read_meta

    try:
        meta = read_meta(lib)
    except LibraryError as err:
        raise UsageError(str(err)) from None
    if meta is not None and not meta.get("inputs"):
        raise UsageError(
            f"{lib}.json has no inputs: it is not the file tvm-trt compile writes (compile again, "
            "or remove it and give every input with --input NAME=file.npy)"
        )
    return meta or {}


def random_input(spec: Dict, index_range: Optional[int], rng):
    """Random data the model can take: ids within the table they index, 0/1 for bools, small
    non-negative ints for other integers (sizes, positions), normal floats."""
    import numpy as np

    shape = [d if isinstance(d, int) else 1 for d in spec["shape"]]  # symbolic dims: 1
    dtype = np.dtype(spec["dtype"])
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.kind in "iu":
        return rng.integers(0, index_range or 16, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def cmd_run(args) -> int:
    import numpy as np
    import tvm
    from tvm import relax

    import tvm_trt  # noqa: F401  (registers the runtime the library's TensorRT stubs call)

    if os.path.isdir(args.library):
        raise UsageError(f"library {args.library!r} is a directory, not a library")
    if not os.path.isfile(args.library):
        raise UsageError(f"library {args.library!r} not found")
    if args.save:
        check_output(args.save, [args.library], "--save", force=True)
    if args.repeat < 1:
        raise UsageError(f"--repeat {args.repeat}: give at least 1 timed run")
    meta = _read_meta(args.library)
    library_check.check(args.library, meta.get("library"))  # before TVM maps it: a truncated file faults
    if args.compare:
        check_reference(args.compare, meta)
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
            arrays.append(random_input(s, (meta.get("input_ranges") or {}).get(s["name"]), rng))

    on_cuda = meta.get("target") == "cuda"
    if on_cuda and not tvm.cuda(0).exist:
        raise UsageError(f"{args.library} was built for cuda but no CUDA GPU is visible")
    dev = tvm.cuda(0) if on_cuda else tvm.cpu()
    try:
        lib = tvm.runtime.load_module(args.library)
        vm = relax.VirtualMachine(lib, dev)
    except Exception as err:  # a shared library, but not one tvm.compile exported
        reason = error_line(err)
        if "cuda" in reason.lower() and not meta:
            raise UsageError(
                f"{args.library} holds CUDA code and has no {args.library}.json: it needs a CUDA GPU ({reason})"
            ) from None
        raise UsageError(f"{args.library} is not a library exported by tvm-trt compile ({reason})") from None
    tensors = [tvm.runtime.tensor(a, dev) for a in arrays]
    out = vm["main"](*tensors)  # first call builds or loads the TensorRT engines
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        out = vm["main"](*tensors)
        dev.sync()
        times.append(time.perf_counter() - start)
    outputs = [out] if isinstance(out, tvm.runtime.Tensor) else list(out)
    for i, o in enumerate(outputs):
        a = o.numpy()
        print(f"output {i}: shape {list(a.shape)} {a.dtype} min {a.min():.6g} max {a.max():.6g} mean {a.mean():.6g}")
    if args.save:
        with output_file(args.save) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **{f"output_{i}": o.numpy() for i, o in enumerate(outputs)})
        print(f"outputs saved to {args.save}")
    if args.compare:
        compare_outputs(args.compare, meta, specs, arrays, [o.numpy() for o in outputs])
    times.sort()
    if env.executor() == "reference":
        print("TensorRT subgraphs were evaluated by the reference executor (TVM_TENSORRT_EXECUTOR=reference)")
    print(f"latency on {dev}: median {1e3 * times[len(times) // 2]:.3f} ms over {len(times)} run(s)")
    return 0
