"""CompileOptions: one definition of names, defaults, allowed values; JSON; env overrides; presets."""

import json

import pytest

import tvm_trt
from tvm_trt import CompileOptions, OptionError, configs, partition
from tvm_trt.runtime import engine

BAD_VALUES = [
    # (option, value, message): one line naming the option, the value and what is allowed
    ("use_fp16", "no", "option use_fp16='no': expected true or false"),
    ("remove_no_mac_subgraphs", "no", "option remove_no_mac_subgraphs='no': expected true or false"),
    ("use_implicit_batch", 1, "option use_implicit_batch=1: expected true or false"),
    ("max_workspace_size", 0, "option max_workspace_size=0: expected an integer 1..2**63-1"),
    ("max_workspace_size", 1.5, "expected an integer"),
    ("min_subgraph_size", 0, "option min_subgraph_size=0: expected an integer >= 1"),
    ("exclude_ops", "relax.nn.relu", "expected a list of Relax op names"),
    ("exclude_ops", ["relax.nn.relux"], "TVM has no op named 'relax.nn.relux'"),
    ("fp32_ops", "relax.matmul", "expected a list of Relax op names or tvm_trt.debug layer names"),
    ("fp32_ops", ["matmull"], "TVM has no op named 'matmull'"),
    ("builder_optimization_level", 6, "option builder_optimization_level=6: expected an integer 0..5"),
    ("hardware_compatibility", "all", "allowed: none, ampere_plus, same_compute_capability"),
    ("version_compatible", "yes", "expected true or false"),
    ("sparse_weights", 1, "expected true or false"),
    ("max_aux_streams", -1, "expected an integer 0..64"),
    ("compute_capabilities", "8.6", "expected a list such as ['8.6', '12.0']"),
    ("compute_capabilities", ["8.x"], "'8.x' is not a compute capability"),
    ("dla_core", -1, "expected an integer 0..15"),
    ("dla_gpu_fallback", None, "expected true or false"),
    ("strip_weights", "on", "expected true or false"),
    ("build_at_compile_time", "true", "expected true or false"),
    ("use_int8", 1, "expected true or false"),
    ("int8_calibration_calls", 0, "expected an integer >= 1"),
    ("int8_calibration", "median", "INT8 calibration must be 'max' or 'percentile:P'"),
    ("version", "eight", "TensorRT version 'eight'"),
    ("dynamic_shapes", {"n": (4, 2, 1)}, "need 0 <= min <= opt <= max"),
    ("cuda_graphs", "1", "expected true or false"),
    ("share_activation_memory", 0, "expected true or false"),
    ("fallback", "off", "expected true or false"),
    ("truncate_double", "yes", "option truncate_double='yes': expected true or false"),
]


@pytest.mark.parametrize("name,value,message", BAD_VALUES, ids=[f"{c[0]}={c[1]!r}" for c in BAD_VALUES])
def test_bad_value_is_one_line(name, value, message):
    with pytest.raises(OptionError) as err:
        CompileOptions.from_kwargs(**{name: value})
    text = str(err.value)
    assert "\n" not in text and message in text and text.startswith("partition_for_tensorrt: ")


def test_every_option_has_a_bad_value_case():
    assert {name for name, *_ in BAD_VALUES} >= set(tvm_trt.core.options.user_option_names()) - {
        "int8_scales",
        "int8_calibration_run",
    }


def test_unknown_option_did_you_mean():
    with pytest.raises(OptionError, match=r"unknown option 'min_subgraph_sise'; did you mean 'min_subgraph_size'\?"):
        CompileOptions.from_kwargs(min_subgraph_sise=3)
    with pytest.raises(OptionError, match="unknown option 'host_target'"):  # set by tvm_trt.build, not by users
        CompileOptions.from_kwargs(host_target="llvm")


def test_string_no_does_not_build_fp16(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"use_fp16": "no"}))
    with pytest.raises(ValueError, match=r"c.json': option use_fp16='no': expected true or false"):
        configs.load(str(path))


def test_json_round_trip():
    opts = CompileOptions(
        version="8.6",
        min_subgraph_size=3,
        exclude_ops=["nn.softmax"],
        builder_optimization_level=5,
        hardware_compatibility="AMPERE_PLUS",
        compute_capabilities=["sm_86", "12.0"],
        dynamic_shapes={"n": (1, 2, 4)},
    )
    data = opts.to_json()
    assert data["tensorrt_version"] == [8, 6, 0]  # the config spells version as tensorrt_version
    assert data["exclude_ops"] == ["relax.nn.softmax"] and data["hardware_compatibility"] == "ampere_plus"
    assert data["compute_capabilities"] == ["8.6", "12.0"]
    again = CompileOptions.from_json(json.dumps(data))
    assert again == opts and again.to_json() == data


def test_defaults_are_written_once():
    """The signature, OPTIONS, default_config and the runtime take CompileOptions' defaults."""
    import inspect

    sig = inspect.signature(partition.partition_for_tensorrt).parameters
    defaults = CompileOptions()
    for name in ("max_workspace_size", "use_fp16", "remove_no_mac_subgraphs"):
        assert sig[name].default == getattr(defaults, name) == partition.OPTIONS[name]
    assert partition.default_config()["max_workspace_size"] == defaults.max_workspace_size
    assert engine.BuildSettings.from_env({}).max_workspace_size == defaults.max_workspace_size


def test_env_overrides_the_fields_it_names(monkeypatch):
    opts = CompileOptions(use_fp16=False, max_workspace_size=1 << 20, use_int8=True)
    monkeypatch.setenv("TVM_TENSORRT_USE_FP16", "1")
    monkeypatch.setenv("TVM_TENSORRT_MAX_WORKSPACE_SIZE", "1<<22")
    monkeypatch.setenv("TVM_TENSORRT_USE_INT8", "off")
    monkeypatch.setenv("TVM_TENSORRT_CUDA_GRAPHS", "yes")
    got = opts.with_env()
    assert (got.use_fp16, got.max_workspace_size, got.use_int8, got.cuda_graphs) == (True, 1 << 22, False, True)
    assert got.min_subgraph_size == opts.min_subgraph_size  # fields no variable names are kept
    settings = engine.BuildSettings.from_options(opts)
    assert (settings.use_fp16, settings.max_workspace_size) == (True, 1 << 22)


def test_presets_load_and_validate():
    assert configs.names()
    for name in configs.names():
        options = configs.load(name)
        CompileOptions.from_kwargs(**options)
    assert tvm_trt.configs.load("jetson-orin")["use_fp16"] is True  # reachable after `import tvm_trt` alone


def test_partition_options_resolved_once():
    opts = CompileOptions(version=(6, 0), exclude_ops=["relax.nn.relu"]).partition_options()
    assert opts.version == (6, 0, 0) and opts.use_implicit_batch is True  # the rule below TensorRT 7
    assert opts.exclude_ops == frozenset({"relax.nn.relu"})


def test_readme_options_table_lists_every_option():
    import pathlib
    import re

    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## Options (`tvm_trt.CompileOptions`)", 1)[1].split("\n## ", 1)[0]
    rows = set(re.findall(r"^\| `(\w+)` \|", section, flags=re.M))
    assert rows == set(tvm_trt.core.options.user_option_names()) - {"int8_calibration_run"}
