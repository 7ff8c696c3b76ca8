"""TVM's C++ log lines, kept out of the user's terminal around our calls into TVM.

TVM's C++ side writes warnings straight to file descriptor 2 (``[12:00:00] .../transform.h:1261:
Warning: Fast mode segfaults when there are out-of-bounds indices`` for every gather it lowers,
``BlockBuilder destroyed with remaining blocks!`` after a failed import): noise about TVM's own
internals that says nothing the user can act on. ``quiet_tvm`` captures descriptor 2 for the
duration of a call and passes TVM's lines to the ``tvm_trt`` logger at debug level
(``TVM_TENSORRT_LOG_LEVEL=debug`` shows them); any other text goes back to stderr unchanged.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import sys
import tempfile
import threading

_TVM_LINE = re.compile(r"^\[\d\d:\d\d:\d\d\] \S+:\d+: ")
_lock = threading.RLock()
_depth = 0
log = logging.getLogger("tvm_trt.tvm")


@contextlib.contextmanager
def quiet_tvm():
    global _depth
    with _lock:
        _depth += 1
        if _depth > 1:  # nested: the outermost capture sorts the lines
            try:
                yield
            finally:
                _depth -= 1
            return
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no usable descriptor 2 (embedded interpreters): nothing to quiet
            _depth -= 1
            yield
            return
        sink = tempfile.TemporaryFile(mode="w+b")
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                _depth -= 1
            sink.seek(0)
            text = sink.read().decode(errors="replace")
            sink.close()
            _sort(text)


def _sort(text: str) -> None:
    other = []
    for line in text.splitlines(keepends=True):
        if _TVM_LINE.match(line) or line.startswith("BlockBuilder destroyed"):
            log.debug("TVM: %s", line.rstrip())
        else:
            other.append(line)
    if other:
        sys.stderr.write("".join(other))


def quiet(func):
    """Decorator form of ``quiet_tvm``."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with quiet_tvm():
            return func(*args, **kwargs)

    return wrapper
