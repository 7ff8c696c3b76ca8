"""Image resizing (relax.image.resize2d -> IResizeLayer) and grid sampling (IGridSampleLayer).

Only attribute combinations with an exact TensorRT equivalent are offloaded (the subset TVM's
own TensorRT pattern table accepts): Relax's "round" is ties-to-even, which no ResizeRoundMode
is, and the tf_* coordinate transformations have no TensorRT counterpart.
"""

from __future__ import annotations

from tvm import relax

from ..core.registry import all_of, attr_in, no_converter, register_op
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


# ---- grid_sample -> IGridSampleLayer (TensorRT 8.6) -----------------------------------------

_GRID_METHODS = {"nearest": "NEAREST", "bilinear": "LINEAR", "bicubic": "CUBIC"}
_GRID_PADDING = {"zeros": "FILL", "border": "CLAMP", "reflection": "REFLECT"}


def _grid_rank(call, opts):
    # TensorRT 8.6 samples 2-D only; 3-D (volumetric) builds with TensorRT-RTX and TensorRT 10.
    if len(call.args[0].ty.shape) == 5 and tuple(opts.version) < (10, 0, 0):
        return "grid_sample over 3 spatial dims (volumetric) needs TensorRT >= 10.0.0"
    if str(call.attrs.method) == "bicubic" and str(call.attrs.padding_mode) == "border":
        # PyTorch (and TVM) clamp each of the 4x4 taps; ONNX's reference clamps the coordinate
        # first. Which one TensorRT's CLAMP does is not established, so TVM keeps it.
        return "grid_sample bicubic with border padding: TensorRT's clamping of bicubic taps is unverified"
    return None


_grid_check = all_of(
    _grid_rank,
    attr_in("layout", ["NCHW", "NCDHW"]),
    attr_in("method", list(_GRID_METHODS)),
    attr_in("padding_mode", list(_GRID_PADDING)),
)


@register_op("relax.image.grid_sample", check=_grid_check, min_version=(8, 6, 0))
def grid_sample(ctx, node):
    trt, a = ctx.trt, node.attrs
    # Relax's grid is (N, 2, H_out, W_out) (the importer permutes ONNX's); TensorRT's (N, H, W, 2)
    grid = ctx.tensor(node.args[1])
    grid = ctx.transpose(grid, (0,) + tuple(range(2, len(grid.shape))) + (1,))
    layer = ctx.network.add_grid_sample(node.args[0], grid)
    layer.interpolation_mode = getattr(trt.InterpolationMode, _GRID_METHODS[a["method"]])
    layer.sample_mode = getattr(trt.SampleMode, _GRID_PADDING[a["padding_mode"]])
    layer.align_corners = bool(a["align_corners"])
    return layer.get_output(0)


# TensorRT's INMSLayer returns a data-dependent number of selected boxes; Relax's op returns
# TVM's padded ONNX format (batch * classes * boxes rows and a count), and TVM's importer
# folds max_output_boxes_per_class into the op. Matching it exactly needs TVM's row order and
# padding, which TensorRT does not document.
no_converter(
    "relax.vision.all_class_non_max_suppression",
    "all_class_non_max_suppression: TVM's padded output format has no exact TensorRT NMS equivalent",
)
