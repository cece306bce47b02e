# Mean teacher on CamVid 1/8 whose pseudo labels are refined by the
# edge-aware mixed-noise diffusion head: DeepLabV3+ gives the first
# prediction, EdgeAwareMixDiffusionHead (on the stride-4 features) refines it
# in 3 denoising steps, for the teacher's pseudo labels and at test time.
_base_ = './meanteacher_effnetl0_camvid_1-8.py'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    segmentor=dict(
        type='CascadeEncoderDecoder',
        num_stages=2,
        decode_head=[
            _base_.model.segmentor.decode_head,
            dict(
                type='EdgeAwareMixDiffusionHead',
                in_channels=24,
                in_index=0,
                channels=32,
                num_classes=11,
                norm_cfg=norm_cfg,
                align_corners=False,
                num_timesteps=100,
                edge_gain=1.0,
                edge_width=1,
                flip_source='prediction',
                num_inference_steps=3,
                loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0))
        ]),
    semi_train_cfg=dict(refine_pseudo_labels=True))
