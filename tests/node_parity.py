"""Node-suite cases that TensorRT's own ONNX parser takes whole and TVM imports, but that tvm_trt
does not offload whole with the right numbers, each with its reason.

Keyed by a fragment of the failure (``node_suite.parity_verdict``'s detail), as
tests/reference/test_fidelity.py keys its lists: a listed case that starts to pass fails the
test, and so does an unlisted case that fails, so the list stays true. ``OPTIONS`` names the
cases that run with options of ``partition_for_tensorrt`` (the float64 ones: truncate_double).
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

_DYN_TILE = (
    "Tile whose repeats are a graph input: TVM imports it as a dyn_tile kernel whose output shape is "
    "computed from the repeats' values (tensor_to_shape), which no static TensorRT slice takes"
)
_NMS = "TVM's all_class_non_max_suppression output (padded, per-class) has no exact TensorRT NMS layer equivalent"
_SUB_BYTE_CAST = (
    "casts to/from FP4 (e2m1) and INT4: TensorRT-RTX builds them only as a Q/DQ of unit scale (it refuses "
    "ICastLayer on these types), their tensors would cross the engine boundary packed two to a byte, whose "
    "layout against TVM's sub-byte tensors is unverified, and plain TVM cannot run the node to compare with"
)
_NO_SATURATE = (
    "Cast with saturate=0 (out of range -> NaN): TVM's importer drops the attribute, so relax.astype "
    "saturates to +-448 as ONNX's default saturate=1 does (plain TVM gives neither)"
)
_VALUE_SHAPES = (
    "a shape computed from input values (Trilu's k): TVM types it with symbolic vars that no tensor input "
    "carries. Slices with input bounds and shapes from tensor values (Expand, ConstantOfShape feeding an op) are offloaded "
    "(partition.value_shapes / value_dims: TVM binds the dims before the destination-passing call, TensorRT "
    "reads the same values as shape inputs); arange's bounds as run-time PrimValues are not taken yet"
)
_CONSTANT_OF_SHAPE = (
    "ConstantOfShape alone: the broadcast of a constant to dims bound from the shape tensor's values has no "
    "tensor argument, so TVM's FuseOpsByPattern makes no subgraph of it (followed by an op on a tensor input it "
    "is offloaded with that op, the shape tensor a TensorRT shape input: tests/ops/test_value_shapes.py)"
)
_RANGE_LENGTH = (
    "Range with input start/limit/delta: the length is int64 arithmetic that one TensorRT subgraph computes "
    "and TVM reads back (tensor_to_shape) to type arange's result, which a second subgraph computes; keeping "
    "that arithmetic in TVM (as value_shapes does for slice bounds) is not done for arange yet"
)
_ZERO_POINT = "uint8 quantization with a zero point: TensorRT's quantize is symmetric (signed INT8/FP8 only)"
_TVM_WRONG = "TVM's importer translates the node wrongly (plain TVM gives the same numbers or shapes)"

# {fragment of the failure: (reason, case names)}
ALLOWED: Dict[str, Tuple[str, Tuple[str, ...]]] = {
    "relax.call_tir (no TensorRT converter": (_DYN_TILE, ("test_tile", "test_tile_precomputed")),
    "has no exact TensorRT NMS equivalent": (
        _NMS,
        (
            "test_nonmaxsuppression_center_point_box_format",
            "test_nonmaxsuppression_flipped_coordinates",
            "test_nonmaxsuppression_identical_boxes",
            "test_nonmaxsuppression_iou_threshold_boundary",
            "test_nonmaxsuppression_limit_output_size",
            "test_nonmaxsuppression_single_box",
            "test_nonmaxsuppression_suppress_by_IOU",
            "test_nonmaxsuppression_suppress_by_IOU_and_scores",
            "test_nonmaxsuppression_two_batches",
            "test_nonmaxsuppression_two_classes",
        ),
    ),
    "relax.quantize (dtype uint8": (
        _ZERO_POINT,
        (
            "test_quantizelinear",
            "test_quantizelinear_axis",
        ),
    ),
    "output 0: max abs error 0": (
        _NO_SATURATE,
        (
            "test_cast_no_saturate_FLOAT16_to_FLOAT8E4M3FN",
            "test_cast_no_saturate_FLOAT_to_FLOAT8E4M3FN",
            "test_castlike_no_saturate_FLOAT16_to_FLOAT8E4M3FN",
            "test_castlike_no_saturate_FLOAT16_to_FLOAT8E4M3FN_expanded",
            "test_castlike_no_saturate_FLOAT_to_FLOAT8E4M3FN",
            "test_castlike_no_saturate_FLOAT_to_FLOAT8E4M3FN_expanded",
        ),
    ),
    "dtype float4_e2m1fn is not supported": (
        _SUB_BYTE_CAST,
        (
            "test_cast_FLOAT16_to_FLOAT4E2M1",
            "test_cast_FLOAT4E2M1_to_FLOAT",
            "test_cast_FLOAT4E2M1_to_FLOAT16",
            "test_cast_FLOAT_to_FLOAT4E2M1",
            "test_castlike_FLOAT16_to_FLOAT4E2M1",
            "test_castlike_FLOAT16_to_FLOAT4E2M1_expanded",
            "test_castlike_FLOAT4E2M1_to_FLOAT",
            "test_castlike_FLOAT4E2M1_to_FLOAT16",
            "test_castlike_FLOAT4E2M1_to_FLOAT16_expanded",
            "test_castlike_FLOAT4E2M1_to_FLOAT_expanded",
            "test_castlike_FLOAT_to_FLOAT4E2M1",
            "test_castlike_FLOAT_to_FLOAT4E2M1_expanded",
        ),
    ),
    "dtype int4 is not supported": (
        _SUB_BYTE_CAST,
        (
            "test_cast_FLOAT16_to_INT4",
            "test_cast_FLOAT_to_INT4",
            "test_castlike_FLOAT16_to_INT4",
            "test_castlike_FLOAT16_to_INT4_expanded",
            "test_castlike_FLOAT_to_INT4",
            "test_castlike_FLOAT_to_INT4_expanded",
        ),
    ),
    "2 TensorRT subgraphs": (_RANGE_LENGTH, ("test_range_int32_type_negative_delta",)),
    "relax.arange": (
        _VALUE_SHAPES,
        (
            "test_tril_zero",
            "test_triu_zero",
        ),
    ),
    "output 0: shape (2, 1, 6), expected (2, 3, 6)": (_TVM_WRONG, ("test_expand_dim_changed",)),
    "relax.broadcast_to (not matched by the TensorRT patterns)": (
        _CONSTANT_OF_SHAPE,
        ("test_constantofshape_float_ones", "test_constantofshape_int_shape_zero", "test_constantofshape_int_zeros"),
    ),
    "output 0:": (
        _TVM_WRONG,
        (
            "test_convtranspose_output_shape",
            "test_isinf_negative",
            "test_isinf_positive",
            "test_spacetodepth_crd_mode_example",
        ),
    ),
}


# Cases that run with options of partition_for_tensorrt: {case: options}. The float64 cases ask for
# truncate_double=True, which is what TensorRT's own parser does unasked (it narrows DOUBLE to FLOAT
# with a warning); without it tvm_trt keeps float64 in TVM (tests/ops/test_float64.py).
_FLOAT64_CASES = (
    "test_cast_DOUBLE_to_FLOAT",
    "test_cast_DOUBLE_to_FLOAT16",
    "test_cast_FLOAT16_to_DOUBLE",
    "test_cast_FLOAT_to_DOUBLE",
    "test_castlike_DOUBLE_to_FLOAT",
    "test_castlike_DOUBLE_to_FLOAT16",
    "test_castlike_DOUBLE_to_FLOAT16_expanded",
    "test_castlike_DOUBLE_to_FLOAT_expanded",
    "test_castlike_FLOAT16_to_DOUBLE",
    "test_castlike_FLOAT16_to_DOUBLE_expanded",
    "test_castlike_FLOAT_to_DOUBLE",
    "test_castlike_FLOAT_to_DOUBLE_expanded",
    "test_einsum_batch_diagonal",
    "test_einsum_batch_matmul",
    "test_einsum_inner_prod",
    "test_einsum_scalar",
    "test_einsum_sum",
    "test_einsum_transpose",
    "test_max_float64",
    "test_min_float64",
    "test_mod_mixed_sign_float64",
)
OPTIONS: Dict[str, Dict[str, object]] = {name: {"truncate_double": True} for name in _FLOAT64_CASES}


def allowed(name: str) -> Optional[Tuple[str, str]]:
    """(fragment, reason) of a listed case, else None."""
    for fragment, (reason, names) in ALLOWED.items():
        if name in names:
            return fragment, reason
    return None
