"""Run ``tvm-trt`` in-process (a subprocess costs ~3 s of imports per call)."""

import contextlib
import io
import types

from tvm_trt.cli import main


def cli(*args) -> types.SimpleNamespace:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exit_:  # argparse's own usage errors
            code = exit_.code
    return types.SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())
