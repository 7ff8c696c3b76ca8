"""TVM's C++ log lines, kept out of the user's terminal around our calls into TVM.

TVM's C++ side writes warnings straight to file descriptor 2 (``[12:00:00] .../transform.h:1261:
Warning: Fast mode segfaults when there are out-of-bounds indices`` for every gather it lowers,
``BlockBuilder destroyed with remaining blocks!`` after a failed import): noise about TVM's own
internals that says nothing the user can act on. ``quiet_tvm`` captures descriptor 2 for the
duration of a call and passes TVM's lines to the ``tvm_trt`` logger at debug level
(``TVM_TENSORRT_LOG_LEVEL=debug`` shows them); any other text goes back to stderr unchanged.
``captured_output`` is the capture itself, also used where a caller decides what to do with the text.
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
def captured_output(fds=(2,), python_streams: bool = False):
    """What the C++ side writes to the descriptors ``fds`` while the block runs (and, with ``python_streams``,
    what Python writes to ``sys.stdout``/``sys.stderr`` even where those are not the descriptors), as text
    appended to the yielded list when the block ends. Without usable descriptors (embedded interpreters)
    nothing is captured and the list stays empty."""
    text: list = []
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(fd) for fd in fds]
    except (OSError, ValueError):
        yield text
        return
    with tempfile.TemporaryFile(mode="w+", errors="replace", newline="") as sink:
        for fd in fds:
            os.dup2(sink.fileno(), fd)
        try:
            with contextlib.ExitStack() as python:
                if python_streams:
                    python.enter_context(contextlib.redirect_stdout(sink))
                    python.enter_context(contextlib.redirect_stderr(sink))
                yield text
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
                sink.flush()
            finally:
                for fd, copy in zip(fds, saved):
                    os.dup2(copy, fd)
                    os.close(copy)
            sink.seek(0)
            text.append(sink.read())


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
        captured: list = []
        try:
            with captured_output((2,)) as captured:
                yield
        finally:
            _depth -= 1
            _sort("".join(captured))


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
