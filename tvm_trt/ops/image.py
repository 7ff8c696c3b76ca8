"""Image resizing: relax.image.resize2d -> IResizeLayer.

Only attribute combinations with an exact TensorRT equivalent are offloaded (the subset TVM's
own TensorRT pattern table accepts): Relax's "round" is ties-to-even, which no ResizeRoundMode
is, and the tf_* coordinate transformations have no TensorRT counterpart.
"""
from __future__ import annotations

from tvm import relax

from ..core.registry import all_of, attr_in, register_op
from ._common import same_out_dtype

_MODES = {"nearest_neighbor": "NEAREST", "linear": "LINEAR", "cubic": "CUBIC"}
# Relax coordinate_transformation_mode -> (ResizeCoordinateTransformation, ResizeSelector):
# pytorch_half_pixel is half_pixel except that a 1-pixel output samples coordinate 0.
_COORDS = {
    "asymmetric": ("ASYMMETRIC", "FORMULA"),
    "align_corners": ("ALIGN_CORNERS", "FORMULA"),
    "half_pixel": ("HALF_PIXEL", "FORMULA"),
    "pytorch_half_pixel": ("HALF_PIXEL", "UPPER"),
}
_ROUNDING = {"floor": "FLOOR", "ceil": "CEIL", "round_prefer_ceil": "HALF_UP", "round_prefer_floor": "HALF_DOWN"}


def _rounding(method: str, transform: str) -> str:
    """The rounding TVM applies for nearest_neighbor ("" picks a default per transformation)."""
    if method == "":
        return "round" if transform == "align_corners" else "floor"
    return method


def _resize_check(call, opts):
    size = call.args[1]
    if not isinstance(size, relax.ShapeExpr):
        return "resize2d output size must be a shape (static or symbolic), not a tensor"
    rounding = _rounding(str(call.attrs.rounding_method), str(call.attrs.coordinate_transformation_mode))
    if str(call.attrs.method) == "nearest_neighbor" and rounding not in _ROUNDING:
        return f"rounding_method={rounding} (ties to even) has no TensorRT ResizeRoundMode"
    return None


_check = all_of(
    attr_in("layout", ["NCHW"]),
    attr_in("method", list(_MODES)),
    attr_in("coordinate_transformation_mode", list(_COORDS)),
    same_out_dtype,
    _resize_check,
)


@register_op("relax.image.resize2d", check=_check)
def resize2d(ctx, node):
    trt, a = ctx.trt, node.attrs
    x = node.args[0]
    layer = ctx.network.add_resize(x)
    out = node.out_shape
    if all(isinstance(d, int) for d in out):
        layer.shape = tuple(out)
    else:  # symbolic dims: the output shape is computed at run time from the subgraph's inputs
        layer.set_input(1, ctx.shape_tensor(out))
    layer.resize_mode = getattr(trt.InterpolationMode, _MODES[a["method"]])
    transform, selector = _COORDS[a["coordinate_transformation_mode"]]
    layer.coordinate_transformation = getattr(trt.ResizeCoordinateTransformation, transform)
    layer.selector_for_single_pixel = getattr(trt.ResizeSelector, selector)
    if a["method"] == "nearest_neighbor":
        rounding = _rounding(a["rounding_method"], a["coordinate_transformation_mode"])
        layer.nearest_rounding = getattr(trt.ResizeRoundMode, _ROUNDING[rounding])
    if a["method"] == "cubic":
        layer.cubic_coeff = float(a["cubic_alpha"])
        layer.exclude_outside = bool(a["cubic_exclude"])
    return layer.get_output(0)
