"""The shared core every stage uses: the TensorRT import (``tensorrt``), the op registry, environment settings,
Relax IR helpers, the offloaded-function walker, symbolic dim expressions, INT8 helpers and build progress.
Nothing here imports a pipeline stage."""
