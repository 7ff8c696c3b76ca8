"""Built-in converters, one module per op family; importing registers them."""
from . import activation, conv, elementwise, image, index, matmul, norm, pool, quantize, reduce, scatter, shape, unary  # noqa: F401
