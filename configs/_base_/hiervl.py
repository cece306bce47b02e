# HierVL-style semantic-query decoder (seed 002) as SemanticQueryHead
# settings. HierVL publishes no code or sizes: the head and these widths are
# this project's reading (docs/method.md). A config adds `promptor`,
# `in_channels`, `in_index`, `num_classes` and `loss_decode` (see
# configs/viladiff/hiervl_*.py).
# GPU: Mask2Former's decoder widths (256-d queries and pixels, 8 heads,
# FFN 2048, 9 layers cycling over 3 levels) with K semantic queries and 20
# learned instance queries.
hiervl_head = dict(
    type='SemanticQueryHead',
    channels=256,
    num_layers=9,
    num_heads=8,
    ffn_channels=2048,
    num_instance_queries=20,
    relevance_weight=0.2,
    align_weight=0.1,
    align_corners=False)
# CPU: 64-d, 3 layers (one per memory level), 8 instance queries; about
# 0.06 GMAC per 192x192 image, a quarter of the DeepLabV3+ head's
# (`python tools/head_cost.py CONFIG`).
hiervl_head_slim = dict(
    hiervl_head,
    channels=64,
    num_layers=3,
    num_heads=4,
    ffn_channels=256,
    num_instance_queries=8)
# Gradient clipping (Mask2Former clips too): the query decoder's gradient
# norm starts near 65 on CamVid crops, and at the mean teacher's SGD head lr
# (0.1) one unclipped step makes every class query identical, after which
# the head predicts uniform classes; clipped at 1.0 it fits (measured on 4
# fixed crops, 60 head-only steps: CE 2.37 unclipped, 0.18 clipped).
hiervl_optim_wrapper = dict(
    clip_grad=dict(_delete_=True, max_norm=1.0, norm_type=2))
