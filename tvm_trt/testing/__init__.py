"""Developer tools for tests, benchmarks and the demo (as ``tvm.relax.testing``): randomly initialised model zoos."""
