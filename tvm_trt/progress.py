"""Progress of TensorRT engine builds on a terminal, and the TVM_TENSORRT_LOG_LEVEL setting.

Builds that take longer than about a second draw a one-line bar on stderr through TensorRT's
IProgressMonitor (when the library has one); nothing is drawn when stderr is not a terminal.
``TVM_TENSORRT_LOG_LEVEL`` (error, warning, info, verbose) sets the level of the ``tvm_trt``
logger, which also receives TensorRT's own messages (logger ``tvm_trt.tensorrt``).
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from typing import Optional

from . import backend

_LEVELS = {"error": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO,
           "verbose": logging.DEBUG, "debug": logging.DEBUG}
DELAY_S = 1.0


def configure_logging() -> None:
    """Apply TVM_TENSORRT_LOG_LEVEL to the tvm_trt logger (idempotent)."""
    name = os.environ.get("TVM_TENSORRT_LOG_LEVEL", "").strip().lower()
    if not name:
        return
    if name not in _LEVELS:
        raise ValueError(f"TVM_TENSORRT_LOG_LEVEL must be one of {', '.join(_LEVELS)}, not {name!r}")
    logger = logging.getLogger("tvm_trt")
    logger.setLevel(_LEVELS[name])
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(name)s %(levelname)s: %(message)s"))
        logger.addHandler(handler)


def _monitor_class(trt):
    class _Monitor(trt.IProgressMonitor):
        """Draws ``label [####    ] step/steps  current phase`` once the build has run ``delay`` s.

        The bar follows the outermost phase; the text names the innermost one running."""

        def __init__(self, label, stream, delay):
            trt.IProgressMonitor.__init__(self)
            self.label = label if len(label) <= 40 else f"{label[:22]}...{label[-15:]}"
            self.stream, self.delay = stream, delay
            self.start = time.monotonic()
            self.phases = {}  # name -> [steps done, steps, parent]
            self.current = ""
            self.width = 0  # of the last line drawn, to clear it
            self.lock = threading.Lock()

        def phase_start(self, phase_name, parent_phase, num_steps):
            with self.lock:
                self.phases[phase_name] = [0, max(int(num_steps), 1), parent_phase]
                self.current = phase_name
                self._draw()

        def step_complete(self, phase_name, step):
            with self.lock:
                if phase_name in self.phases:
                    self.phases[phase_name][0] = int(step) + 1
                self._draw()
            return True  # keep building

        def phase_finish(self, phase_name):
            with self.lock:
                finished = self.phases.pop(phase_name, None)
                if finished and finished[2]:
                    self.current = finished[2]  # back to the parent phase

        def _draw(self):
            if time.monotonic() - self.start < self.delay:
                return
            top = next((p for p in self.phases.values() if not p[2]), None)
            done, steps = (top[0], top[1]) if top else (0, 1)
            filled = int(20 * min(done, steps) / steps)
            line = f"TensorRT build {self.label} [{'#' * filled:<20}] {done}/{steps}  {self.current[:32]}"
            self.stream.write("\r" + line.ljust(self.width))
            self.stream.flush()
            self.width = len(line)

        def close(self):
            if self.width:
                self.stream.write("\r" + " " * self.width + "\r")
                self.stream.flush()

    return _Monitor


@contextlib.contextmanager
def build_progress(builder_config, label: str, stream=None, delay: Optional[float] = None):
    """Attach a progress bar to ``builder_config`` for the builds inside the ``with``."""
    configure_logging()
    delay = DELAY_S if delay is None else delay
    stream = stream if stream is not None else sys.stderr
    trt = backend.trt()
    if not (hasattr(builder_config, "progress_monitor") and hasattr(trt, "IProgressMonitor")) or not (
        hasattr(stream, "isatty") and stream.isatty()
    ):
        yield None
        return
    monitor = _monitor_class(trt)(label, stream, delay)
    builder_config.progress_monitor = monitor  # TensorRT keeps no reference: we hold it until the end
    try:
        yield monitor
    finally:
        monitor.close()
