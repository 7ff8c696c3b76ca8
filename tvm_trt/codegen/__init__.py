"""Codegen: offloaded functions -> specs, a weights object and stubs (``relax.ext.tensorrt``), then ``tvm_trt.build``."""
