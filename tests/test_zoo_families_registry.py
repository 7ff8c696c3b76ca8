"""The zoo's family registry (no model is built): every tested and surveyed model has a builder, and a
model is either tested or surveyed, so that bench/family_survey.py never repeats a test."""

from tvm_trt.testing import torch_zoo_families as families


def test_every_model_has_a_builder_and_one_place():
    tested = [n for names in families.FAMILIES.values() for n in names]
    surveyed = [n for names in families.SURVEY.values() for n in names]
    assert len(set(tested)) == len(tested) and len(set(surveyed)) == len(surveyed)
    assert not set(tested) & set(surveyed), set(tested) & set(surveyed)
    assert set(tested) | set(surveyed) <= set(families.BUILDERS)
    assert families.family_of("qwen2") == "decoder_only" and families.family_of("llama") == "hf_decoder"
