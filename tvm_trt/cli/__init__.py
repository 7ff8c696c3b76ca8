"""The ``tvm-trt`` command line."""

from .entry import main  # noqa: F401  (the console-script entry point: tvm_trt.cli:main)
