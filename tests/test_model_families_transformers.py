"""Model families at TensorRT's parser bar: Hugging Face CLIP / T5 / Wav2Vec2 / Whisper / SegFormer / vision
transformers (SwinV2, DINOv2, DETR, ViTMAE) / decoder-only LMs, diffusers UNet, VAE and DiT, MaxViT
(tests/model_families.py says what is checked)."""

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("onnxruntime")

from model_families import check_model, family_params, onnx_dir  # noqa: E402,F401  (onnx_dir: the fixture)


@pytest.mark.parametrize("family,name", list(family_params("transformers")))
def test_family_model_at_parser_bar_matches_onnxruntime(family, name, onnx_dir):  # noqa: F811
    check_model(family, name, onnx_dir)
