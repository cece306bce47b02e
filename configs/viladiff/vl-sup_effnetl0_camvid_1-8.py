# Supervised DeepLabV3+ on CamVid 1/8 with the vision-language path: the
# supervised baseline made a VLEncoderDecoder (VLFusionNeck on its two
# deepest levels, captions of each labeled image). A plain checkpoint of the
# baseline loads into it (`load_from`; the neck starts as the identity), so
# the neck can get its own supervised phase before the mean teacher
# (benchmarks/camvid_semi.py, row `supervised-vl-oracle`).
_base_ = [
    '../baselines/deeplabv3p_effnetl0_camvid_1-8.py',
    '../_base_/models/vl_path_effnetl0_camvid.py'
]

model = dict(
    type='VLEncoderDecoder',
    promptor=_base_.promptor,
    neck=_base_.vl_neck,
    vision_task_weight=1.0)
# fresh modules learn at the heads' 10x rate
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=dict(neck=dict(lr_mult=10.0))))

# the caption is loaded after the image and packed with the sample, as in
# meanteacher-vl_effnetl0_camvid_1-8.py
pack = dict(type='PackSegInputs', meta_keys=_base_.caption_meta_keys)
train_pipeline = [
    _base_.train_pipeline[0], _base_.load_caption,
    *_base_.train_pipeline[1:-1], pack
]
test_pipeline = [
    _base_.test_pipeline[0],
    dict(_base_.load_caption, on_missing='skip'), *_base_.test_pipeline[1:-1],
    pack
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
