"""Models of families the tests do not run, kept to look for the next coverage gap before a user does
(``bench/family_survey.py`` reports each against TensorRT's parser and onnxruntime). Same small-config,
random-weight rules as the tested families."""

from __future__ import annotations

from typing import Callable, Dict, List

from . import diffusion, hf, vision
from .survey_new import NEW_BUILDERS, NEW_DECODERS, NEW_SURVEY

SURVEY: Dict[str, List[str]] = {
    # Tested before, now covered by a model of the same classes in the tests.
    "same_classes": ["yolov8n", "timm_convnext_atto", "mistral", "r3d_18", "mc3_18", "r2plus1d_18"],
    "torchvision_cnn": [
        "densenet121",
        "inception_v3",
        "squeezenet",
        "mnasnet",
        "regnet_y",
        "lraspp",
    ],
    "timm_more": [
        "timm_hrnet",
        "timm_cspdarknet",
        "timm_ghostnet",
        "timm_repvgg",
        "timm_poolformer",
        "timm_xcit",
        "timm_cait",
        "timm_beit",
        "timm_deit",
        "timm_convmixer",
        "timm_mixer",
        "timm_resmlp",
        "timm_res2net",
        "timm_dla",
        "timm_rexnet",
        "timm_pit",
        "timm_tnt",
        "timm_sequencer",
    ],
    "hf_text": ["albert", "electra", "mobilebert", "bart_encoder", "layoutlm"],
    "hf_decoder": ["llama", "gpt_neox", "bloom", "falcon", "gemma"],
    "hf_vision": ["convnextv2"],
    "diffusers_more": ["controlnet"],
    "ultralytics_more": ["yolov8n_pose", "rtdetr"],
}
SURVEY.update(NEW_SURVEY)
SURVEY_DECODERS = set(SURVEY["hf_decoder"]) | {"mistral", "opt"} | NEW_DECODERS
_TINY_VIT = dict(img_size=64, patch_size=16, embed_dim=64, depth=2, num_heads=2)

SURVEY_BUILDERS: Dict[str, Callable] = {
    "yolov8n": vision.ultralytics("yolov8n.yaml"),
    "timm_convnext_atto": vision.timm("convnext_atto"),
    "mistral": hf.decoder("MistralModel", "MistralConfig", sliding_window=None),
    "r3d_18": vision.video("r3d_18"),
    "mc3_18": vision.video("mc3_18"),
    "r2plus1d_18": vision.video("r2plus1d_18"),
    "densenet121": vision.torchvision("densenet121"),
    "googlenet": vision.torchvision("googlenet", aux_logits=False, init_weights=False),
    "inception_v3": vision.torchvision("inception_v3", size=96, aux_logits=False, init_weights=False),
    "shufflenet_v2": vision.torchvision("shufflenet_v2_x0_5"),
    "squeezenet": vision.torchvision("squeezenet1_1"),
    "mnasnet": vision.torchvision("mnasnet0_5"),
    "regnet_y": vision.torchvision("regnet_y_400mf"),
    "lraspp": vision.torchvision(
        "lraspp_mobilenet_v3_large", module="segmentation", weights_backbone=None, num_classes=5
    ),
    "raft_small": vision.raft,
    "timm_hrnet": vision.timm("hrnet_w18_small"),
    "timm_cspdarknet": vision.timm("cs3darknet_s"),
    "timm_ghostnet": vision.timm("ghostnet_050"),
    "timm_repvgg": vision.timm("repvgg_a0"),
    "timm_poolformer": vision.timm("poolformer_s12"),
    "timm_xcit": vision.timm("xcit_nano_12_p16_224", img_size=64, depth=2),
    "timm_cait": vision.timm("cait_xxs24_224", img_size=64, depth=2),
    "timm_beit": vision.timm("beit_base_patch16_224", **_TINY_VIT),
    "timm_deit": vision.timm("deit_tiny_distilled_patch16_224", **_TINY_VIT),
    "timm_convmixer": vision.timm("convmixer_1024_20_ks9_p14", size=64),
    "timm_mixer": vision.timm("mixer_s32_224", img_size=64),
    "timm_resmlp": vision.timm("resmlp_12_224", img_size=64),
    "timm_nfnet": vision.timm("nfnet_l0"),
    "timm_res2net": vision.timm("res2net50_14w_8s"),
    "timm_dla": vision.timm("dla34"),
    "timm_rexnet": vision.timm("rexnet_100"),
    "timm_pit": vision.timm("pit_ti_224", img_size=64),
    "timm_tnt": vision.timm("tnt_s_patch16_224", img_size=64, depth=2),
    "timm_sequencer": vision.timm("sequencer2d_s", layers=[1, 1, 1, 1]),
    "deberta_v2": hf.encoder(
        "DebertaV2Model",
        "DebertaV2Config",
        relative_attention=True,
        pos_att_type=["p2c", "c2p"],
        max_relative_positions=32,
        position_buckets=8,
    ),
    "albert": hf.encoder("AlbertModel", "AlbertConfig", embedding_size=32),
    "electra": hf.encoder("ElectraModel", "ElectraConfig", embedding_size=32),
    "xlm_roberta": hf.encoder("XLMRobertaModel", "XLMRobertaConfig"),
    "mobilebert": hf.encoder(
        "MobileBertModel",
        "MobileBertConfig",
        embedding_size=32,
        intra_bottleneck_size=32,
        true_hidden_size=32,
        num_feedforward_networks=2,
    ),
    "bart_encoder": hf.hf(
        hf.transformers_model(
            "BartModel",
            "BartConfig",
            part="get_encoder",
            d_model=64,
            encoder_layers=2,
            decoder_layers=1,
            encoder_attention_heads=4,
            decoder_attention_heads=4,
            encoder_ffn_dim=128,
            decoder_ffn_dim=128,
            vocab_size=1000,
            max_position_embeddings=64,
            attn_implementation="eager",
        ),
        hf.tokens(),
    ),
    "layoutlm": hf.encoder("LayoutLMModel", "LayoutLMConfig", inputs_of=hf.tokens(extra=hf.boxes)),
    "llama": hf.decoder("LlamaModel", "LlamaConfig"),
    "gpt_neox": hf.decoder("GPTNeoXModel", "GPTNeoXConfig"),
    "bloom": hf.decoder("BloomModel", "BloomConfig", n_layer=2, n_head=4, attn_implementation="eager"),
    "falcon": hf.decoder("FalconModel", "FalconConfig", new_decoder_architecture=True, num_kv_heads=2),
    "gemma": hf.decoder("GemmaModel", "GemmaConfig", head_dim=16),
    "opt": hf.decoder("OPTModel", "OPTConfig", ffn_dim=128, word_embed_proj_dim=64),
    "dinov2": hf.hf(
        hf.transformers_model(
            "Dinov2Model",
            "Dinov2Config",
            mlp_ratio=2,
            **hf.SMALL_VISION,
        ),
        hf.pixels(32),
    ),
    "vit_mae": hf.hf(
        hf.transformers_model(
            "ViTMAEModel",
            "ViTMAEConfig",
            intermediate_size=128,
            **hf.SMALL_VISION,
        ),
        hf.pixels(32, extra=hf.mae_noise),
    ),
    "convnextv2": hf.hf(
        hf.transformers_model(
            "ConvNextV2Model", "ConvNextV2Config", hidden_sizes=[16, 32, 64, 128], depths=[1, 1, 1, 1]
        ),
        hf.pixels(64),
    ),
    "swinv2": hf.hf(
        hf.transformers_model(
            "Swinv2Model",
            "Swinv2Config",
            image_size=64,
            patch_size=4,
            embed_dim=16,
            depths=[1, 1],
            num_heads=[1, 2],
            window_size=4,
        ),
        hf.pixels(64),
    ),
    "detr": hf.hf(
        hf.transformers_model(
            "DetrModel",
            "DetrConfig",
            **hf.TINY_DETR,
        ),
        hf.pixels(64),
    ),
    "dit": diffusion.diffusers_model("dit"),
    "controlnet": diffusion.diffusers_model("controlnet"),
    "yolov8n_seg": vision.ultralytics("yolov8n-seg.yaml", "segment"),
    "yolov8n_pose": vision.ultralytics("yolov8n-pose.yaml", "pose"),
    "rtdetr": vision.ultralytics("rtdetr-l.yaml", "rtdetr"),
}
SURVEY_BUILDERS.update(NEW_BUILDERS)
# The builders of the tested models promoted from here stay here too (FAMILIES names them).
assert {n for names in SURVEY.values() for n in names} <= set(SURVEY_BUILDERS)
