"""The shared core every stage uses: the TensorRT import (``tensorrt``), the op registry, environment settings,
Relax IR helpers, the offloaded-function walker, symbolic dim expressions, INT8 helpers
(``int8``: quantized weights through partitioning; ``int8_spec``: the spec rewrites of calibration), TVM's log
lines kept out of the terminal (``tvm_log``) and build progress.
Nothing here imports a pipeline stage."""
