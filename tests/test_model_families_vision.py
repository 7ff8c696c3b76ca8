"""Model families at TensorRT's parser bar: ultralytics YOLO, timm backbones (hybrid conv/attention ones
included), torchvision video networks (tests/model_families.py says what is checked)."""

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("onnxruntime")

from model_families import check_model, family_params, onnx_dir  # noqa: E402,F401  (onnx_dir: the fixture)


@pytest.mark.parametrize("family,name", list(family_params("vision")))
def test_family_model_at_parser_bar_matches_onnxruntime(family, name, onnx_dir):  # noqa: F811
    check_model(family, name, onnx_dir)
