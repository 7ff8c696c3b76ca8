"""The seven Gluon zoo models each partition into exactly one TensorRT subgraph with no
compute op left to TVM (TVM 0.27's own table: 18, 51, 28, 78, 1, 1, 122 subgraphs)."""

import pytest

import tvm_trt
from tvm_trt import partition as part
from tvm_trt.testing import zoo

from harness import remaining_ops


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("zoo_onnx"))


@pytest.mark.slow
@pytest.mark.mxnet
@pytest.mark.parametrize("name", zoo.GLUON_ZOO)
def test_zoo_model_is_one_subgraph(name, onnx_dir):
    mod, params = tvm_trt.frontend.from_onnx(zoo.onnx_path_for(name, onnx_dir))
    pmod, config = tvm_trt.partition_for_tensorrt(mod, params)
    left = [c.op.name for c in remaining_ops(pmod)]
    assert left == [], f"{name}: left in TVM: {left}"
    assert len(part.offloaded_functions(pmod)) == 1
    assert config["use_implicit_batch"] is False  # resolved from the TensorRT 10 era target
