"""Survey models of families no test or survey model covered before (added 2026-12-05): torchvision,
timm and Hugging Face architectures with block designs, attention schemes or heads of their own (video and
windowed attention, pooling attention, lambda / halo / outlook attention, state-space and RWKV-style scans,
encoder-decoders, MoE routing). Same small-config, random-weight rules as the other survey models."""

from __future__ import annotations

from typing import Callable, Dict, List

from . import hf, vision

NEW_SURVEY: Dict[str, List[str]] = {
    "new_families": [
        "tv_efficientnet_b0",
        "tv_deeplabv3",
        "tv_swin3d",
        "timm_pvt_v2",
        "timm_fastvit",
        "timm_edgenext",
        "timm_twins",
        "ast",
        "hubert",
        "t5",
        "gptj",
        "esm",
        "yolos",
        "mixtral",
        "dpt",
        "sam_vision",
        "bart",
        "timm_mvitv2",
        "funnel",
        "deformable_detr",
        "longformer",
        "timm_mobilevitv2",
        "cvt",
        "timm_volo",
        "timm_halonet",
        "timm_crossvit",
        "timm_eva02",
        "timm_mobilenetv4",
        "timm_resnest",
        "timm_lambda",
        "timm_botnet",
        "timm_davit",
        "timm_focalnet",
        "timm_coat",
        "timm_nest",
        "timm_convit",
        "timm_hiera",
        "timm_tiny_vit",
        "timm_efficientvit_m",
        "timm_mambaout",
        "timm_starnet",
        "mamba",
        "swin2sr",
        "convbert",
        "gemma2",
        "xlnet",
    ],
}
# timm_tresnet (found here, reflect pads) is tested now; its builder stays below.
NEW_DECODERS = {"gptj", "mixtral", "gemma2"}

NEW_BUILDERS: Dict[str, Callable] = {
    "tv_efficientnet_b0": vision.torchvision("efficientnet_b0"),
    "tv_deeplabv3": vision.torchvision(
        "deeplabv3_mobilenet_v3_large", module="segmentation", weights_backbone=None, num_classes=5
    ),
    "tv_swin3d": vision.swin3d,
    "timm_pvt_v2": vision.timm("pvt_v2_b0"),
    "timm_fastvit": vision.timm("fastvit_t8"),
    "timm_edgenext": vision.timm("edgenext_xx_small"),
    "timm_twins": vision.timm("twins_svt_small", depths=(1, 1, 1, 1)),
    "ast": hf.hf(
        hf.transformers_model(
            "ASTModel",
            "ASTConfig",
            **dict(hf.SMALL_TEXT, vocab_size=None),
            patch_size=16,
            frequency_stride=10,
            time_stride=10,
            max_length=48,
            num_mel_bins=32,
            attn_implementation="eager",
        ),
        hf.spectrogram,
    ),
    "hubert": hf.hf(hf.wav2vec2("HubertModel", "HubertConfig"), hf.audio),
    "t5": hf.hf(
        hf.transformers_model(
            "T5Model", "T5Config", d_model=64, d_kv=16, d_ff=128, num_layers=2, num_heads=4, vocab_size=1000
        ),
        hf.tokens(extra=hf.decoder_ids),
    ),
    "gptj": hf.decoder("GPTJModel", "GPTJConfig", rotary_dim=8, attn_implementation="eager"),
    "esm": hf.encoder("EsmModel", "EsmConfig", position_embedding_type="rotary", pad_token_id=1),
    "yolos": hf.hf(
        hf.transformers_model(
            "YolosModel",
            "YolosConfig",
            intermediate_size=128,
            num_detection_tokens=10,
            **dict(hf.SMALL_VISION, image_size=[32, 32]),
        ),
        hf.pixels(32),
    ),
    "mixtral": hf.decoder("MixtralModel", "MixtralConfig", num_local_experts=4, num_experts_per_tok=2),
    "dpt": hf.hf(
        hf.transformers_model(
            "DPTForSemanticSegmentation",  # its logits: the depth head's final ReLU zeroes a random model's output
            "DPTConfig",
            num_labels=5,
            intermediate_size=128,
            **dict(hf.SMALL_VISION, num_hidden_layers=4),
            backbone_out_indices=[0, 1, 2, 3],
            neck_hidden_sizes=[16, 32, 64, 64],
            fusion_hidden_size=32,
        ),
        hf.pixels(32),
    ),
    "sam_vision": hf.hf(
        hf.transformers_model(
            "SamVisionModel",
            "SamVisionConfig",
            hidden_size=64,
            output_channels=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            image_size=64,
            patch_size=8,
            window_size=4,
            global_attn_indexes=[1],
            mlp_dim=128,
            initializer_range=0.02,  # the config's 1e-10 leaves the convolutions blind to the image
        ),
        hf.pixels(64),
    ),
    "bart": hf.hf(
        hf.transformers_model(
            "BartModel",
            "BartConfig",
            d_model=64,
            encoder_layers=2,
            decoder_layers=2,
            encoder_attention_heads=4,
            decoder_attention_heads=4,
            encoder_ffn_dim=128,
            decoder_ffn_dim=128,
            vocab_size=1000,
            max_position_embeddings=64,
            attn_implementation="eager",
        ),
        hf.tokens(extra=hf.decoder_ids),
    ),
    "timm_mvitv2": vision.timm("mvitv2_tiny", img_size=64),
    "funnel": hf.hf(
        hf.transformers_model(
            "FunnelModel",
            "FunnelConfig",
            block_sizes=[1, 1],
            d_model=64,
            n_head=4,
            d_head=16,
            d_inner=128,
            vocab_size=1000,
        ),
        hf.tokens(),
    ),
    "deformable_detr": hf.hf(
        hf.transformers_model(
            "DeformableDetrModel",
            "DeformableDetrConfig",
            **hf.TINY_DETR,
        ),
        hf.pixels(64),
        output=1,  # last_hidden_state (output 0, the initial reference points, does not see the image)
    ),
    "longformer": hf.encoder("LongformerModel", "LongformerConfig", attention_window=4, pad_token_id=1),
    "timm_mobilevitv2": vision.timm("mobilevitv2_050"),
    "cvt": hf.hf(
        hf.transformers_model("CvtModel", "CvtConfig", embed_dim=[16, 32, 64], num_heads=[1, 2, 4], depth=[1, 2, 3]),
        hf.pixels(64),
    ),
    "timm_volo": vision.timm("volo_d1_224", img_size=64),
    "timm_tresnet": vision.timm("tresnet_m"),
    "timm_halonet": vision.timm("halonet26t", size=256),
    "timm_crossvit": vision.timm("crossvit_tiny_240", size=240),
    "timm_eva02": vision.timm("eva02_tiny_patch14_224", img_size=56, size=56),
    "timm_mobilenetv4": vision.timm("mobilenetv4_hybrid_medium"),
    "timm_resnest": vision.timm("resnest14d"),
    "timm_lambda": vision.timm("lambda_resnet26t", img_size=64),
    "timm_botnet": vision.timm("botnet26t_256", img_size=64),
    "timm_davit": vision.timm("davit_tiny", depths=(1, 1, 1, 1)),
    "timm_focalnet": vision.timm("focalnet_tiny_srf"),
    "timm_coat": vision.timm("coat_lite_tiny", img_size=64),
    "timm_nest": vision.timm("nest_tiny", img_size=64),
    "timm_convit": vision.timm("convit_tiny", img_size=64, depth=2),
    "timm_hiera": vision.timm("hiera_tiny_224", img_size=64, size=64),
    "timm_tiny_vit": vision.timm("tiny_vit_5m_224"),
    "timm_efficientvit_m": vision.timm("efficientvit_m0", img_size=64),
    "timm_mambaout": vision.timm("mambaout_femto"),
    "timm_starnet": vision.timm("starnet_s1"),
    "mamba": hf.hf(
        hf.transformers_model(
            "MambaModel",
            "MambaConfig",
            hidden_size=64,
            state_size=8,
            num_hidden_layers=2,
            vocab_size=1000,
            use_cache=False,
        ),
        hf.tokens(mask=False),
    ),
    "swin2sr": hf.hf(
        hf.transformers_model(
            "Swin2SRModel",
            "Swin2SRConfig",
            image_size=32,
            patch_size=1,
            embed_dim=16,
            depths=[1, 1],
            num_heads=[2, 2],
            window_size=4,
            upscale=2,
        ),
        hf.pixels(32),
    ),
    "convbert": hf.encoder("ConvBertModel", "ConvBertConfig", embedding_size=64),
    "gemma2": hf.decoder("Gemma2Model", "Gemma2Config", head_dim=16, attn_implementation="eager"),
    "xlnet": hf.hf(
        hf.transformers_model(
            "XLNetModel", "XLNetConfig", d_model=64, n_layer=2, n_head=4, d_inner=128, vocab_size=1000
        ),
        hf.tokens(),
    ),
}
