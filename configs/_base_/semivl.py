# SemiVL's language-guided decoder (Hoyer et al., ECCV 2024, seed 001) as
# VLGuidedHead settings; a config adds `promptor`, `in_channels`,
# `in_index`, `num_classes` and `loss_decode` (see
# configs/viladiff/semivl_*.py).
# GPU: SemiVL's own widths (its public VLG head: 128-d class maps and
# text, a 7x7 first conv, GroupNorm ASPP, two class-attention layers with 4
# heads at 4x4-pooled locations, skips projected to 32 and 16, up blocks of
# 64 and 32), with max-pooling over concept phrases (SemiVL's 'concept'
# mode). Dilations: SemiVL's (6, 12, 18) are for a 32x32 map; a dilated
# ResNet gives 64x64 at 512 crops, hence doubled.
semivl_head = dict(
    type='VLGuidedHead',
    channels=128,
    text_channels=128,
    sim_kernel=7,
    spatial='aspp',
    aspp_dilations=(12, 24, 36),
    num_attn_layers=2,
    num_heads=4,
    pool_size=4,
    skip_channels=(32, 16),
    up_channels=(64, 32),
    concept_pooling='max',
    align_corners=False)
# CPU: slim widths for 192x192 crops and 11 classes. Steps 2-5 of the head
# run once per class, so their width sets the cost: 32-d class maps, one
# 3x3 conv instead of the ASPP (a 12x12 map), up blocks of 16 and 8 (the
# stride-4 block alone would cost 0.2 GMAC per image at SemiVL's 32). See
# `python tools/head_cost.py CONFIG` for parameters and multiply-adds.
semivl_head_slim = dict(
    semivl_head,
    channels=32,
    text_channels=32,
    spatial='conv',
    num_spatial_convs=1,
    skip_channels=(16, 8),
    up_channels=(16, 8),
    concept_pooling='mean')
# SemiVL's dense CLIP guidance (`semi_train_cfg.dense_guidance`, see
# models/utils/dense_clip_guidance.py): MaskCLIP labels of the weak view
# from a frozen CLIP ViT-B/16 (OpenAI weights; open_clip fetches them once
# into its cache), softmax(100 cos), ignored below 0.9, CutMixed with the
# pseudo labels; weight 0.1 decaying linearly to 0 over the run. GPU only:
# it needs CLIP's image tower, which CPU machines here do not have, so the
# CamVid configs leave it off. A config adds the `vocabulary`.
semivl_dense_guidance = dict(
    model='ViT-B-16',
    pretrained='openai',
    allow_download=True,
    weight=0.1,
    temperature=100.0,
    threshold=0.9,
    cache_dir='work_dirs/text_cache')
