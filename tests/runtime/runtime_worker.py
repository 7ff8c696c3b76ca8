"""Subprocess for runtime tests: load an exported library, run it, print runtime stats as JSON.

usage: python runtime_worker.py LIB INPUT.npy EXPECTED.npy
"""

import json
import sys

import numpy as np
import tvm
from tvm import relax

import tvm_trt

lib, x, want = tvm.runtime.load_module(sys.argv[1]), np.load(sys.argv[2]), np.load(sys.argv[3])
vm = relax.VirtualMachine(lib, tvm.cpu())
got = vm["main"](tvm.runtime.tensor(x)).numpy()
np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
print(json.dumps(tvm_trt.runtime_stats()))
