"""The TensorRT knobs of Torch-TensorRT / ONNX Runtime users: partitioning (min_subgraph_size,
exclude_ops), builder options (inspected on the IBuilderConfig and built for real with
TensorRT-RTX), weight-stripped plans, run-time options, precision against the target arch."""

import dataclasses

import numpy as np
import pytest
import tvm
from tvm import relax

import tvm_trt
from harness import make_module
from runtime_models import W, conv_softmax
from tvm_trt import partition
from tvm_trt.codegen import spec
from tvm_trt.core import precision_gate
from tvm_trt.core import tensorrt as backend
from tvm_trt.runtime import aot, builder_knobs, engine, stripped

needs_trt = pytest.mark.skipif(not backend.available(), reason="needs a TensorRT library")
rtx_only = pytest.mark.skipif(backend.flavour() != "tensorrt-rtx", reason="TensorRT-RTX behaviour")


def _split_model():
    """relu -> softmax -> conv -> relu -> add: softmax excluded splits it into 1 op + 3 ops."""

    def build(x):
        y = relax.op.nn.softmax(relax.op.nn.relu(x), axis=1)
        z = relax.op.nn.relu(relax.op.nn.conv2d(y, relax.const(W), padding=[1, 1]))
        return relax.op.add(z, relax.const(np.float32(1.0)))

    return make_module(build, {"x": ((1, 3, 6, 6), "float32")})


def test_exclude_ops_and_min_subgraph_size_reasons():
    report = tvm_trt.partition_report(_split_model(), exclude_ops=["relax.nn.softmax"])
    assert [s.ops for s in report.subgraphs] == [1, 3]
    reasons = {r.op: r.reason for r in report.rejected}
    assert reasons == {"relax.nn.softmax": "excluded by the user (exclude_ops)"}

    report = tvm_trt.partition_report(_split_model(), exclude_ops=["nn.softmax"], min_subgraph_size=2)
    assert [s.ops for s in report.subgraphs] == [3]
    reasons = {r.op: r.reason for r in report.rejected}
    assert reasons["relax.nn.relu"] == "in a subgraph of 1 ops < min_subgraph_size=2"
    assert reasons["relax.nn.softmax"] == "excluded by the user (exclude_ops)"

    pmod, config = tvm_trt.partition_for_tensorrt(_split_model(), exclude_ops=["nn.softmax"], min_subgraph_size=4)
    assert not partition.offloaded_functions(pmod) and config["min_subgraph_size"] == 4


def _subgraph(**options):
    pmod, config = tvm_trt.partition_for_tensorrt(conv_softmax(), **options)
    ((name, func),) = partition.offloaded_functions(pmod).items()
    return spec.from_function(func, name, config)


def _config(settings, sub=None):
    sub = sub or _subgraph()[0]
    builder = backend.trt().Builder(backend.get_logger())
    return engine.builder_config(builder, sub, ((2, 3, 8, 8),), settings)


@needs_trt
def test_option_followed_by_name_to_the_builder():
    """partition_for_tensorrt(builder_optimization_level=1) -> config -> BuildSettings -> IBuilderConfig."""
    sub, _ = _subgraph(builder_optimization_level=1, max_aux_streams=2, sparse_weights=True)
    settings = engine.BuildSettings.from_env(sub["config"])
    assert (settings.builder_optimization_level, settings.max_aux_streams, settings.sparse_weights) == (1, 2, True)
    config = _config(settings, sub)
    trt = backend.trt()
    assert config.builder_optimization_level == 1 and config.max_aux_streams == 2
    assert config.get_flag(trt.BuilderFlag.SPARSE_WEIGHTS)


BUILT_HERE = [
    dict(builder_optimization_level=0),
    dict(builder_optimization_level=5),
    dict(sparse_weights=True),
    dict(max_aux_streams=0),
    dict(compute_capabilities=("8.6", "12.0")),
]


@needs_trt
@pytest.mark.parametrize(
    "change", BUILT_HERE, ids=[next(iter(c)) + "=" + str(next(iter(c.values()))) for c in BUILT_HERE]
)
def test_builder_knob_builds_a_plan_with_its_own_key(change):
    sub, weights = _subgraph()
    base = engine.BuildSettings(use_fp16=False, max_workspace_size=1 << 24)
    settings = dataclasses.replace(base, **change)
    if "compute_capabilities" in change and backend.flavour() != "tensorrt-rtx":
        pytest.skip("compute capabilities of ahead-of-time plans are a TensorRT-RTX API")
    assert engine.build_plan(sub, weights, ((2, 3, 8, 8),), settings)
    assert engine.cache_key("h", [(1,)], settings) != engine.cache_key("h", [(1,)], base)


def test_default_knobs_keep_old_cache_keys():
    base = engine.BuildSettings(use_fp16=False, max_workspace_size=1 << 24)
    assert base.key_fields() == {}
    assert engine.BuildSettings.from_env({"max_workspace_size": 1 << 24}) == base


@rtx_only
def test_compute_capabilities_on_the_builder_config():
    trt = backend.trt()
    config = _config(engine.BuildSettings(False, 1 << 24, compute_capabilities=("8.6", "12.0")))
    assert config.num_compute_capabilities == 2
    assert [config.get_compute_capability(i) for i in range(2)] == [
        trt.ComputeCapability.SM86,
        trt.ComputeCapability.SM120,
    ]
    with pytest.raises(builder_knobs.UnsupportedKnob, match=r"compute_capabilities: 7.0 is not a target"):
        _config(engine.BuildSettings(False, 1 << 24, compute_capabilities=("7.0",)))


@rtx_only
def test_version_compatible_flag_set():
    config = _config(engine.BuildSettings(False, 1 << 24, version_compatible=True))
    assert config.get_flag(backend.trt().BuilderFlag.VERSION_COMPATIBLE)


@rtx_only
@pytest.mark.parametrize(
    "change,message",
    [
        (dict(hardware_compatibility="ampere_plus"), "TensorRT-RTX has no hardware compatibility levels"),
        (dict(dla_core=0), "option dla_core=0: this tensorrt-rtx has no DLA"),
    ],
)
def test_knobs_tensorrt_rtx_lacks_are_errors(change, message):
    with pytest.raises(builder_knobs.UnsupportedKnob, match=message):
        _config(dataclasses.replace(engine.BuildSettings(False, 1 << 24), **change))


@needs_trt
def test_stripped_plan_names_every_weight_and_round_trips():
    """What runs here of weight stripping: every weight of the network is named and marked
    refittable with our arrays; the embedded index keeps the stripped flag. (Building a stripped
    plan and refitting it need a CUDA driver with TensorRT-RTX 1.7: untested here.)"""
    from tvm_trt.network.builder import build_network

    sub, weights = _subgraph()
    builder = backend.trt().Builder(backend.get_logger())
    network, ctx = build_network(sub, weights, builder)
    named = stripped.name_weights(network, ctx)
    assert named and all(network.are_weights_marked_refittable(n) for n in named)
    assert any(a.shape == W.shape and np.array_equal(a, W) for a in named.values())
    blob = aot.attach("{}", {"k1": stripped.StrippedPlan(b"abc"), "k2": b"defg"})
    _, plans = aot.split(blob)
    assert isinstance(plans["k1"], stripped.StrippedPlan) and plans["k1"] == b"abc"
    assert not isinstance(plans["k2"], stripped.StrippedPlan) and plans["k2"] == b"defg"


@needs_trt
def test_strip_weights_default_follows_what_this_tensorrt_can_build():
    sub, weights = _subgraph(build_at_compile_time=True)
    (plan,) = aot.build_plans(sub, weights, "h").values()
    assert isinstance(plan, stripped.StrippedPlan) == stripped.can_strip()
    if not stripped.can_strip():  # asked explicitly where it cannot be built: TensorRT's reason, named
        sub, weights = _subgraph(build_at_compile_time=True, strip_weights=True)
        with pytest.raises(engine.EngineBuildError, match="could not build subgraph tensorrt_0"):
            aot.build_plans(sub, weights, "h")


@pytest.mark.parametrize(
    "options,arch,message",
    [
        (
            dict(use_int8=True),
            "sm_53",
            "use_int8: INT8 needs a GPU of compute capability >= 6.1; the target arch sm_53",
        ),
        (
            dict(use_fp16=True),
            "sm_50",
            "use_fp16: FP16 needs a GPU of compute capability >= 5.3; the target arch sm_50",
        ),
    ],
)
def test_precision_against_target_arch_at_compile_time(options, arch, message):
    pmod, _ = tvm_trt.partition_for_tensorrt(conv_softmax(), **options)
    with pytest.raises(ValueError, match=message):
        tvm_trt.build(pmod, {"kind": "cuda", "arch": arch, "host": "llvm"})


def test_precision_the_gpu_lacks_at_run_time_builds_fp32():
    opts = tvm_trt.CompileOptions(use_fp16=True, use_int8=True)
    with pytest.warns(UserWarning, match="INT8 needs a GPU of compute capability >= 6.1; Jetson Nano:sm_53"):
        fitted = precision_gate.fit_to_gpu(opts, "Jetson Nano:sm_53")
    assert fitted.use_fp16 and not fitted.use_int8
    assert precision_gate.fit_to_gpu(opts, "any") is opts  # plans built without a GPU: nothing to check


def test_run_time_options_from_env_and_counted(monkeypatch):
    monkeypatch.setenv("TVM_TENSORRT_CUDA_GRAPHS", "1")
    monkeypatch.setenv("TVM_TENSORRT_SHARE_ACTIVATION_MEMORY", "true")
    opts = tvm_trt.CompileOptions().with_env()
    assert opts.cuda_graphs and opts.share_activation_memory
    monkeypatch.setenv("TVM_TENSORRT_CUDA_GRAPHS", "sometimes")
    with pytest.raises(ValueError, match="TVM_TENSORRT_CUDA_GRAPHS='sometimes' is not a boolean"):
        tvm_trt.CompileOptions().with_env()
    stats = tvm_trt.runtime_stats()
    assert stats["cuda_graph_contexts"] == 0 and stats["shared_activation_bytes"] == 0


def test_cuda_target_without_arch_is_not_checked():
    pmod, _ = tvm_trt.partition_for_tensorrt(conv_softmax(), use_int8=True, int8_calibration_calls=1)
    assert precision_gate.target_arch(tvm.target.Target({"kind": "cuda"}), {"kind": "cuda"}) is None
    assert pmod is not None


def test_fp8_model_against_target_arch():
    def build(x):
        s = relax.const(np.array(0.05, "float32"))
        zp = relax.const(np.zeros((), "float16"))  # Relax takes fp8 zero points as float16
        q = relax.op.quantize(x, s, zp, axis=1, out_dtype="float8_e4m3fn")
        return relax.op.dequantize(q, s, zp, axis=1, out_dtype="float32")

    pmod, _ = tvm_trt.partition_for_tensorrt(make_module(build, {"x": ((2, 4, 3), "float32")}))
    assert precision_gate.has_fp8(partition.offloaded_functions(pmod).values())
    with pytest.raises(
        ValueError,
        match="an FP8-quantized model: FP8 needs a GPU of compute capability >= 8.9; the target arch sm_86 is 8.6",
    ):
        tvm_trt.build(pmod, {"kind": "cuda", "arch": "sm_86", "host": "llvm"})
