# EdgeAwareMixDiffusionHead for the EfficientNet-Lite0 DeepLabV3+ models: it
# reads the stride-4 features (24 channels) and refines the first head's
# prediction in 3 denoising steps. Configs use it as `_base_.diffusion_head`
# in a cascade after DeepLabV3+'s head.
diffusion_head = dict(
    type='EdgeAwareMixDiffusionHead',
    in_channels=24,
    in_index=0,
    channels=32,
    num_classes=11,
    norm_cfg=dict(type='SyncBN', requires_grad=True),
    align_corners=False,
    num_timesteps=100,
    edge_gain=1.0,
    edge_width=1,
    flip_source='prediction',
    num_inference_steps=3,
    loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0))
