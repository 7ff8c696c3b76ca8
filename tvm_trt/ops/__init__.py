"""Built-in converters, one module per op family; importing registers them."""

from . import (  # noqa: F401
    activation,
    conv,
    einsum,
    elementwise,
    generate,
    image,
    index,
    matmul,
    norm,
    pool,
    quantize,
    reduce,
    scatter,
    shape,
    unary,
)
