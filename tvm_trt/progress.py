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
        """Draws ``label: phase [####    ] step/steps`` once the build has run for ``delay`` s."""

        def __init__(self, label, stream, delay):
            trt.IProgressMonitor.__init__(self)
            self.label, self.stream, self.delay = label, stream, delay
            self.start = time.monotonic()
            self.phases = {}  # name -> (steps done, steps)
            self.current = ""
            self.drawn = False
            self.lock = threading.Lock()

        def phase_start(self, phase_name, parent_phase, num_steps):
            with self.lock:
                self.phases[phase_name] = (0, max(int(num_steps), 1))
                self.current = phase_name
                self._draw()

        def step_complete(self, phase_name, step):
            with self.lock:
                _, steps = self.phases.get(phase_name, (0, 1))
                self.phases[phase_name] = (int(step) + 1, steps)
                self.current = phase_name
                self._draw()
            return True  # keep building

        def phase_finish(self, phase_name):
            with self.lock:
                self.phases.pop(phase_name, None)

        def _draw(self):
            if time.monotonic() - self.start < self.delay:
                return
            done, steps = self.phases.get(self.current, (0, 1))
            filled = int(20 * min(done, steps) / steps)
            line = f"\rbuilding TensorRT engine {self.label}: {self.current[:32]:<32} [{'#' * filled:<20}] {done}/{steps}"
            self.stream.write(line)
            self.stream.flush()
            self.drawn = True

        def close(self):
            if self.drawn:
                self.stream.write("\r" + " " * 100 + "\r")
                self.stream.flush()

    return _Monitor


@contextlib.contextmanager
def build_progress(builder_config, label: str, stream=None, delay: float = DELAY_S):
    """Attach a progress bar to ``builder_config`` for the builds inside the ``with``."""
    configure_logging()
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
