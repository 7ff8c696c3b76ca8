"""Progress of TensorRT engine builds on a terminal, and the TVM_TENSORRT_LOG_LEVEL setting.

A build that has run about a second gets a tqdm bar on stderr that follows it to the end: time
elapsed from the start (network construction included), and, once TensorRT reports them through
its IProgressMonitor, the fraction of its outermost phase done and the phase running. Each
finished build then leaves one line (``TensorRT tensorrt_0: built in 4.3 s``), so several
builds read as a list. Nothing is drawn when stderr is not a terminal.

``TVM_TENSORRT_LOG_LEVEL`` (error, warning, info, verbose/debug) sets the level of the
``tvm_trt`` logger, which also receives TensorRT's own messages (logger ``tvm_trt.tensorrt``).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from typing import Optional

from . import tensorrt, env

_LEVELS = {
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "verbose": logging.DEBUG,
    "debug": logging.DEBUG,
}
DELAY_S = 1.0
REFRESH_S = 0.25


class _OnePrefix(logging.Formatter):
    """``tvm_trt WARNING: subgraph ...``: our messages start with ``tvm_trt:`` so that they say whose they are
    under any handler; under ours, the record's prefix already does."""

    def format(self, record):
        text = super().format(record)
        return text.replace(f"{record.levelname}: tvm_trt: ", f"{record.levelname}: ", 1)


def configure_logging() -> None:
    """Apply TVM_TENSORRT_LOG_LEVEL to the tvm_trt logger (idempotent)."""
    name = env.choice(env.LOG_LEVEL, env.LOG_LEVELS, "")
    if not name:
        return
    logger = logging.getLogger("tvm_trt")
    logger.setLevel(_LEVELS[name])
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(_OnePrefix("tvm_trt %(levelname)s: %(message)s"))
        logger.addHandler(handler)


class BuildProgress:
    """The bar of one build. TensorRT calls the phase methods from its build thread; a refresh
    thread opens the bar after ``delay`` seconds and keeps its clock moving between steps."""

    def __init__(self, label: str, stream, delay: float):
        self.label, self.stream, self.delay = label, stream, delay
        self.start = time.monotonic()
        self.phases = {}  # name -> [steps done, steps, parent]
        self.finished = False
        self.bar = None
        self.shown = False
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._refresh_loop, daemon=True)
        self.thread.start()

    # --- IProgressMonitor callbacks (through the adapter below) --------------------------------
    def phase_start(self, phase_name, parent_phase, num_steps):
        with self.lock:
            self.phases[phase_name] = [0, max(int(num_steps), 1), parent_phase]

    def step_complete(self, phase_name, step):
        with self.lock:
            if phase_name in self.phases:
                self.phases[phase_name][0] = int(step) + 1
        return True  # keep building

    def phase_finish(self, phase_name):
        with self.lock:
            finished = self.phases.pop(phase_name, None)
            if finished and not finished[2]:
                self.finished = True  # the outermost phase: what is left is serialising the plan

    # --- drawing ---------------------------------------------------------------------------
    def fraction(self) -> float:
        """Done share of the outermost phase, refined by its running child phase."""
        top = next(((n, p) for n, p in self.phases.items() if not p[2]), None)
        if top is None:
            return 1.0 if self.finished else 0.0
        name, (done, steps, _) = top
        child = next((p for p in self.phases.values() if p[2] == name), None)
        partial = child[0] / child[1] if child else 0.0
        return min((done + partial) / steps, 1.0)

    def running(self) -> str:
        """The innermost phase running (the latest started that has not finished)."""
        if self.phases:
            return next(reversed(self.phases))
        return "serialising the plan" if self.finished else "building the network"

    def _refresh_loop(self):
        if self.done.wait(self.delay):
            return
        from tqdm import tqdm

        with self.lock:
            self.bar = tqdm(
                total=100,
                desc=f"TensorRT {self.label}",
                file=self.stream,
                leave=False,
                delay=0.01,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}{postfix}",
            )
            self.bar.start_t -= time.monotonic() - self.start  # the clock counts from the build's start
            self.shown = True
        while not self.done.is_set():
            with self.lock:
                self.bar.n = round(100 * self.fraction())
                self.bar.set_postfix_str(self.running()[:40], refresh=False)
                self.bar.refresh()
            self.done.wait(REFRESH_S)

    def close(self, outcome: str) -> None:
        self.done.set()
        self.thread.join()
        if self.bar is not None:
            self.bar.close()
        if logging.getLogger("tvm_trt").isEnabledFor(logging.INFO):
            return  # the info log line says the same, with shapes and precision
        from tqdm import tqdm

        tqdm.write(f"TensorRT {self.label}: {outcome} in {time.monotonic() - self.start:.1f} s", file=self.stream)


def _monitor_class(trt):
    class _Monitor(trt.IProgressMonitor):
        """Forwards TensorRT's phases to a BuildProgress."""

        def __init__(self, progress):
            trt.IProgressMonitor.__init__(self)
            self.progress = progress

        def phase_start(self, phase_name, parent_phase, num_steps):
            self.progress.phase_start(phase_name, parent_phase, num_steps)

        def step_complete(self, phase_name, step):
            return self.progress.step_complete(phase_name, step)

        def phase_finish(self, phase_name):
            self.progress.phase_finish(phase_name)

    return _Monitor


def attach(progress: Optional[BuildProgress], builder_config):
    """Let TensorRT report its phases to ``progress``; returns the monitor, which the caller must
    hold until the build ends (TensorRT keeps no reference)."""
    trt = tensorrt.trt()
    if progress is None or not (hasattr(builder_config, "progress_monitor") and hasattr(trt, "IProgressMonitor")):
        return None
    monitor = _monitor_class(trt)(progress)
    builder_config.progress_monitor = monitor
    return monitor


@contextlib.contextmanager
def build_progress(label: str, stream=None, delay: Optional[float] = None):
    """A BuildProgress for the build inside the ``with`` on a terminal, else None."""
    configure_logging()
    stream = stream if stream is not None else sys.stderr
    if not (hasattr(stream, "isatty") and stream.isatty()):
        yield None
        return
    progress = BuildProgress(label, stream, DELAY_S if delay is None else delay)
    outcome = "failed"
    try:
        yield progress
        outcome = "built"
    finally:
        progress.close(outcome)
