"""The reference executor against NVIDIA's own translation of ONNX.

Every ONNX backend node test shipped with the installed `onnx` package is parsed with TensorRT's
own ONNX parser (not our converters), the parsed network is evaluated with
`tvm_trt.reference.run_network`, and the outputs are compared with ONNX's expected outputs.
Cases the parser rejects are skipped (and counted); cases hitting a layer the executor declares
unmodelled must raise NotImplementedError naming the layer. Every other case must match, except
the ones listed below with their reason: a listed case that starts passing fails the test too,
so the table stays true.
"""

from __future__ import annotations

import collections
import copy
import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

from tvm_trt.core import tensorrt

pytestmark = pytest.mark.skipif(not tensorrt.available(), reason="needs a TensorRT library")

# Share of evaluated networks (parsed, not declared unmodelled) that must match ONNX, counting
# only networks that mean what the ONNX model means: where TensorRT's own translation computes
# something else (EXPECTED_WRONG entries marked TRANSLATION), ONNX's expected output is not an
# oracle for the executor. Both shares are printed.
MIN_CORRECT = 0.995

TRANSLATION = "TensorRT's translation"
_TRIU = "the parser emits the very network it emits for tril (the upper attribute is lost): the reference computes tril"
_NO_SATURATE = "the parser emits a plain FP8 cast for saturate=0, which saturates (ONNX expects NaN on overflow)"
_ZERO_POINT = "the parser keeps the uint8 zero point 128 as INT8; TensorRT refuses nonzero zero points (symmetric only)"
_CEIL = "TensorRT's ceil-mode output size keeps a last window that starts in the padding (ONNX drops it)"

# With dynamic input dims TensorRT's parser crashes the process (segfault) on these ops.
DYNAMIC_PARSER_CRASHES = ("test_top_k", "test_nonmaxsuppression")

_RESIZE_SCALES = (
    "with dynamic dims the parser turns scales into output sizes; TensorRT maps coordinates by the "
    "size ratio, ONNX by the scale"
)

_NONPAD = "the parser drops Attention's nonpad_kv_seqlen input: every key is attended to"
_WINDOW = "the parser drops Attention's window sizes: every (causal) key is attended to"
_SHORT_MASK = (
    "with dynamic dims the parser passes an attention mask shorter than the keys (ONNX pads it with -inf); "
    "TensorRT requires it to broadcast"
)

# Cases that evaluate but disagree with ONNX: {name: (whose translation, reason, fragment of the failure)}.
EXPECTED_WRONG = {
    "test_averagepool_2d_ceil_last_window_starts_on_pad": (TRANSLATION, _CEIL, "shape (1, 3, 2, 2)"),
    "test_maxpool_2d_ceil_output_size_reduce_by_one": (TRANSLATION, _CEIL, "shape (1, 1, 2, 2)"),
    "test_quantizelinear": (TRANSLATION, _ZERO_POINT, "nonzero zero point"),
    "test_quantizelinear_axis": (TRANSLATION, _ZERO_POINT, "nonzero zero point"),
    "test_quantizelinear_blocked_asymmetric": (TRANSLATION, _ZERO_POINT, "nonzero zero point"),
    **{
        f"test_attention_4d_{name}": (TRANSLATION, _NONPAD, "values differ")
        for name in (
            "causal_nonpad_batch_prefill",
            "causal_nonpad_continued_prefill",
            "causal_nonpad_negative_offset_structural_empty",
            "gqa_causal_nonpad_decode",
            "gqa_causal_nonpad_decode_fp16",
        )
    },
    **{
        f"test_attention_{name}": (TRANSLATION, _WINDOW, "values differ")
        for name in ("bidirectional_window", "local_window", "3d_local_window")
    },
    **{
        f"test_attention_4d_{name}": (TRANSLATION, _SHORT_MASK, "does not broadcast")
        for name in ("diff_heads_mask4d_padded_kv", "padded_kv_bf16")
    },
    "test_matmul_1d_3d": (
        TRANSLATION,
        "with dynamic dims the parser squeezes axis 0 (size 2) after the matmul",
        "squeeze",
    ),
    **{
        f"test_resize_downsample_scales_{mode}": (TRANSLATION, _RESIZE_SCALES, "values differ")
        for mode in ("cubic", "cubic_A_n0p5_exclude_outside", "cubic_align_corners", "linear", "linear_align_corners")
    },
    "test_spacetodepth_crd_mode_example": (
        TRANSLATION,
        "the parser ignores SpaceToDepth's mode and emits the DCR permutation",
        "values differ",
    ),
    **{
        f"test_{cast}_no_saturate_{src}_to_FLOAT8E4M3FN{suffix}": (TRANSLATION, _NO_SATURATE, "values differ")
        for cast, suffix in (("cast", ""), ("castlike", ""), ("castlike", "_expanded"))
        for src in ("FLOAT", "FLOAT16")
        if not (cast == "cast" and suffix)
    },
    **{
        f"test_triu{suffix}": (TRANSLATION, _TRIU, "values differ")
        for suffix in ("", "_neg", "_one_row", "_out_neg_out", "_out_pos", "_pos", "_square", "_square_neg")
    },
}

# Cases whose parsed network holds a layer or type the executor does not model, by the reason the
# NotImplementedError gives ({fragment of the message: case names}).
EXPECTED_UNMODELLED = {
    # loops (Loop, Scan, RNN/GRU/LSTM) are not modelled
    "TRIP_LIMIT": (
        "test_gru_batchwise",
        "test_gru_bidirectional",
        "test_gru_defaults",
        "test_gru_reverse",
        "test_gru_seq_length",
        "test_gru_with_initial_bias",
        "test_linear_attention_decode_step_expanded",
        "test_linear_attention_delta_expanded",
        "test_linear_attention_explicit_scale_expanded",
        "test_linear_attention_fp16_expanded",
        "test_linear_attention_gated_delta_beta_scalar_expanded",
        "test_linear_attention_gated_delta_expanded",
        "test_linear_attention_gated_delta_gqa_expanded",
        "test_linear_attention_gated_delta_mqa_expanded",
        "test_linear_attention_gated_expanded",
        "test_linear_attention_gated_per_head_decay_expanded",
        "test_linear_attention_linear_expanded",
        "test_linear_attention_linear_t1_no_past_expanded",
        "test_linear_attention_no_past_explicit_zeros_expanded",
        "test_linear_attention_prefill_with_past_expanded",
        "test_loop11",
        "test_lstm_batchwise",
        "test_lstm_bidirectional",
        "test_lstm_defaults",
        "test_lstm_reverse",
        "test_lstm_with_initial_bias",
        "test_lstm_with_peepholes",
        "test_range_int32_type_negative_delta_expanded",
        "test_rnn_seq_length",
        "test_scan9_multi_state",
        "test_scan9_scalar",
        "test_scan9_sum",
        "test_scan_sum",
        "test_simple_rnn_batchwise",
        "test_simple_rnn_bidirectional",
        "test_simple_rnn_defaults",
        "test_simple_rnn_reverse",
        "test_simple_rnn_with_initial_bias",
    ),
    # INT4 tensors (packed sub-byte) are not modelled
    "dtype=INT4": (
        "test_cast_FLOAT16_to_INT4",
        "test_cast_FLOAT_to_INT4",
        "test_cast_INT4_to_FLOAT",
        "test_cast_INT4_to_FLOAT16",
        "test_cast_INT4_to_INT8",
        "test_castlike_FLOAT16_to_INT4",
        "test_castlike_FLOAT16_to_INT4_expanded",
        "test_castlike_FLOAT_to_INT4",
        "test_castlike_FLOAT_to_INT4_expanded",
        "test_castlike_INT4_to_FLOAT",
        "test_castlike_INT4_to_FLOAT16",
        "test_castlike_INT4_to_FLOAT16_expanded",
        "test_castlike_INT4_to_FLOAT_expanded",
        "test_castlike_INT4_to_INT8",
        "test_castlike_INT4_to_INT8_expanded",
        "test_quantizelinear_int4",
    ),
    # FP4 tensors (packed sub-byte) are not modelled
    "dtype=FP4": (
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
        "test_quantizelinear_float4e2m1",
    ),
    # non-maximum suppression is not modelled
    "NMS": (
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
    # conditionals (If) are not modelled
    "CONDITION": (
        "test_affine_grid_2d_align_corners_expanded",
        "test_affine_grid_2d_expanded",
        "test_if",
    ),
    # random fills have no reproducible reference
    "operation=RANDOM_UNIFORM": (
        "test_bernoulli_double_expanded",
        "test_bernoulli_seed_expanded",
    ),
    # attention rows with every key masked: TensorRT documents no result
    "no key to attend": ("test_attention_23_boolmask_fullymasked_row_nan_robustness",),
    # the KV-cache update layer is not modelled
    "KV_CACHE_UPDATE": ("test_tensorscatter",),
}


def _cases():
    from onnx.backend.test.case import node

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the case generators overflow casts on purpose
        return node.collect_testcases(None)


def _parse(trt, logger, model):
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(model.SerializeToString()):
        return None
    return builder, network, parser


def _compare(got: np.ndarray, want: np.ndarray, rtol: float, atol: float) -> str | None:
    """None when equal within tolerance, else what differs."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return f"shape {got.shape} != {want.shape}"
    if want.dtype == object or got.size == 0:
        return None if got.size == want.size else "differs"
    if want.dtype.kind in "biu" or want.dtype == np.bool_:
        return None if np.array_equal(got.astype(want.dtype), want) else "values differ"
    g, w = got.astype(np.float64), want.astype(np.float64)
    if want.dtype.name in ("bfloat16", "float16") or "float8" in want.dtype.name:
        rtol = max(rtol, 2**-6 if want.dtype.name == "bfloat16" else 2**-9)
    if np.allclose(g, w, rtol=rtol, atol=atol, equal_nan=True):
        return None
    bad = ~np.isclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
    with np.errstate(invalid="ignore"):
        worst = np.max(np.abs(g - w)[bad])
    return f"{int(bad.sum())}/{bad.size} values differ (max abs diff {worst:.3g})"


def _array(value, info):
    """Test data as an ndarray (cases hold arrays, NumPy scalars or TensorProtos) of the type the
    graph declares; None for sequences and optionals."""
    from onnx import TensorProto, numpy_helper

    if isinstance(value, TensorProto):
        array = numpy_helper.to_array(value)
    elif isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
    else:
        return None
    # Older onnx holds bfloat16 / float8 data as float32 values or as raw uint16 / uint8 bits.
    exotic = {TensorProto.BFLOAT16: "bfloat16", TensorProto.FLOAT8E4M3FN: "float8_e4m3fn"}.get(
        info.type.tensor_type.elem_type
    )
    if exotic is not None and array.dtype.name != exotic:
        import ml_dtypes

        target = np.dtype(getattr(ml_dtypes, exotic))
        array = array.view(target) if array.dtype.kind == "u" else array.astype(target)
    return array


def _with_dynamic_dims(model):
    """A copy of `model` whose graph inputs have every dim symbolic (-1 once parsed): the
    parser then computes shapes with shape-tensor layers, evaluated from the actual arrays."""
    dynamic = copy.deepcopy(model)
    initialized = {t.name for t in dynamic.graph.initializer}
    for value in dynamic.graph.input:
        if value.name in initialized or not value.type.HasField("tensor_type"):
            continue
        for index, dim in enumerate(value.type.tensor_type.shape.dim):
            dim.ClearField("dim_value")
            dim.dim_param = f"{value.name}_{index}"
    return dynamic


def run_case(trt, logger, case, dynamic: bool = False):
    """(status, detail): 'unparsed', 'unmodelled', 'wrong' or 'correct'."""
    from tvm_trt.reference import run_network

    parsed = _parse(trt, logger, _with_dynamic_dims(case.model) if dynamic else case.model)
    if parsed is None:
        return "unparsed", ""
    network = parsed[1]
    graph = case.model.graph
    initialized = {t.name for t in graph.initializer}
    graph_inputs = [i for i in graph.input if i.name not in initialized]
    input_names = [i.name for i in graph_inputs]
    output_names = [o.name for o in graph.output]
    for inputs, outputs in case.data_sets:
        inputs = [_array(v, info) for v, info in zip(inputs, graph_inputs)]
        outputs = [_array(v, info) for v, info in zip(outputs, graph.output)]
        if any(v is None for v in inputs + outputs):
            return "unparsed", "sequence or optional values"
        feeds = dict(zip(input_names, inputs))
        wanted = {network.get_input(i).name for i in range(network.num_inputs)}
        feeds = {k: v for k, v in feeds.items() if k in wanted}  # inputs the parser folded away
        try:
            got = run_network(network, feeds)
        except NotImplementedError as e:
            return "unmodelled", str(e)
        except Exception as e:  # an error where TensorRT computes is a wrong result
            return "wrong", f"{type(e).__name__}: {e}"
        for name, want in zip(output_names, outputs):
            if name not in got:
                return "wrong", f"no output '{name}'"
            diff = _compare(got[name], want, max(case.rtol, 1e-3), max(case.atol, 1e-5))
            if diff is not None:
                return "wrong", f"output '{name}': {diff}"
    return "correct", ""


def measure(dynamic: bool = False, progress=None):
    """Runs every case; returns ({case name: (status, detail)}, seconds). With `progress` (a
    file), each case's name is written before it is parsed, so a parser crash names its case."""
    trt, logger = tensorrt.trt(), tensorrt.get_logger()
    start = time.perf_counter()
    results = {}
    for case in _cases():
        if dynamic and case.name.startswith(DYNAMIC_PARSER_CRASHES):
            continue
        if progress is not None:
            progress.write(case.name + "\n")
            progress.flush()
        results[case.name] = run_case(trt, logger, case, dynamic)
    return results, time.perf_counter() - start


def _measure_in_subprocess(dynamic: bool, tmp_path):
    """measure() in a child process: a crash in TensorRT's parser then fails the test naming the
    case instead of taking pytest down."""
    out, progress = tmp_path / "results.json", tmp_path / "progress.txt"
    code = (
        "import json, sys, test_fidelity as f\n"
        "with open(sys.argv[2], 'w') as progress:\n"
        f"    results, seconds = f.measure(dynamic={dynamic}, progress=progress)\n"
        "json.dump({'results': results, 'seconds': seconds}, open(sys.argv[1], 'w'))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(__file__)] + [p for p in sys.path if p]))
    command = [sys.executable, "-c", code, str(out), str(progress)]
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        names = progress.read_text().split() if progress.exists() else []
        last = names[-1] if names else "(before the first case)"
        pytest.fail(f"the fidelity run died (exit {proc.returncode}) at {last}:\n{proc.stderr[-3000:]}")
    data = json.loads(out.read_text())
    return {name: tuple(value) for name, value in data["results"].items()}, data["seconds"]


def summary(results) -> dict:
    counts = collections.Counter(status for status, _ in results.values())
    evaluated = counts["correct"] + counts["wrong"]
    translated = sum(
        1
        for name, (status, _) in results.items()
        if status == "wrong" and EXPECTED_WRONG.get(name, ("",))[0] == TRANSLATION
    )
    faithful = evaluated - translated
    return {
        "cases": len(results),
        "parsed": len(results) - counts["unparsed"],
        "evaluated": evaluated,
        "correct": counts["correct"],
        "wrong": counts["wrong"],
        "unmodelled": counts["unmodelled"],
        "share": counts["correct"] / evaluated if evaluated else 0.0,
        "share_of_faithful_translations": counts["correct"] / faithful if faithful else 0.0,
    }


def _unmodelled_reason(name):
    for reason, names in EXPECTED_UNMODELLED.items():
        if name in names:
            return reason
    return None


def check(results) -> list:
    """Every disagreement with the tables, as readable lines."""
    problems = []
    for name, (status, detail) in sorted(results.items()):
        listed_wrong = EXPECTED_WRONG.get(name)
        reason = _unmodelled_reason(name)
        if status == "wrong":
            if listed_wrong is None:
                problems.append(f"{name}: wrong ({detail})")
            elif listed_wrong[2] not in detail:
                problems.append(f"{name}: wrong in another way than {listed_wrong[2]!r}: {detail}")
        elif listed_wrong is not None and status != "unparsed":
            problems.append(f"{name}: listed as wrong ({listed_wrong[1]}) but is {status}: update the table")
        if status == "unmodelled":
            if "layer '" not in detail and "input '" not in detail:
                problems.append(f"{name}: NotImplementedError names no layer or input: {detail}")
            if reason is None:
                problems.append(f"{name}: unmodelled ({detail})")
            elif reason not in detail:
                problems.append(f"{name}: unmodelled for another reason than {reason!r}: {detail}")
        elif reason is not None and status != "unparsed":
            problems.append(f"{name}: listed as unmodelled ({reason}) but is {status}: update the table")
    return problems


def _check_and_report(results, seconds, what):
    stats = summary(results)
    print(f"fidelity ({what}): {stats} in {seconds:.0f} s")
    problems = check(results)
    assert not problems, "\n".join(problems)
    assert stats["share_of_faithful_translations"] >= MIN_CORRECT, stats


def test_reference_matches_onnx_through_tensorrt_parser():
    results, seconds = measure()
    _check_and_report(results, seconds, "static dims")


def test_reference_matches_onnx_with_dynamic_input_dims(tmp_path):
    """The same cases with every input dim declared -1: shapes flow through SHAPE layers and
    shape-tensor arithmetic (gather, concat, elementwise, slice) into reshape, fill, slice and
    resize, all computed from the concrete input arrays."""
    results, seconds = _measure_in_subprocess(True, tmp_path)
    _check_and_report(results, seconds, "dynamic dims")
