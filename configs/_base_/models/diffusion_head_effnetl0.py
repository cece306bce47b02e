# EdgeAwareMixDiffusionHead for the EfficientNet-Lite0 DeepLabV3+ models: it
# reads the stride-4 features (24 channels) and DeepLabV3+'s decoder features
# (condition_on_decoder: the cascade must be a RefineCascadeEncoderDecoder or
# VLCascadeEncoderDecoder) and refines the first head's prediction in 3
# denoising steps from step T (flip_source='prediction': the first head's
# softmax is the forward process at T). Its refined logits are divided by a
# temperature fitted on labeled batches (calibrate). Configs use it as
# `_base_.diffusion_head` in a cascade after DeepLabV3+'s head.
diffusion_head = dict(
    type='EdgeAwareMixDiffusionHead',
    in_channels=24,
    in_index=0,
    channels=32,
    num_classes=11,
    norm_cfg=dict(type='SyncBN', requires_grad=True),
    align_corners=False,
    num_timesteps=100,
    feature_noise_scale=0.5,
    edge_gain=1.0,
    edge_width=1,
    flip_source='prediction',
    num_inference_steps=3,
    condition_on_decoder=True,
    calibrate=True,
    loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0))
