"""Built-in converters, one module per op family; importing registers them."""
from . import activation, conv, elementwise, matmul, norm, pool, reduce, shape  # noqa: F401
