# The embedded demo: DeepLabV3+ EfficientNet-Lite0 on the synthetic shapes
# dataset (`python tools/make_synthetic_data.py`), a few minutes on a CPU:
# the CamVid baseline with the demo's data and segmentor
# (`_base_/synthetic_demo.py`) and schedule.
_base_ = [
    './deeplabv3p_effnetl0_camvid_1-8.py', '../_base_/synthetic_demo.py'
]
data_root = 'data/synthetic'
crop_size = (96, 96)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = _base_.val_set.pipeline
model = _base_.synthetic_segmentor
# the demo's own schedule (here and below), without the CamVid recipe's
# head lr x10 and warm-up
optim_wrapper = dict(paramwise_cfg=dict(_delete_=True))
train_dataloader = dict(
    dataset=dict(
        dataset=dict(
            _delete_=True, pipeline=train_pipeline, **_base_.synthetic_train),
        split_file='splits/labeled.txt'))
val_dataloader = dict(dataset=dict(_delete_=True, **_base_.val_set))
test_dataloader = val_dataloader
max_iters = 1000
param_scheduler = [dict(_base_.param_scheduler[1], begin=0, end=max_iters)]
train_cfg = dict(max_iters=max_iters, val_interval=250)
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=250, save_best=None))
