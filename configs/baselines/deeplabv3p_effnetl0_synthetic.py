# The embedded demo: DeepLabV3+ EfficientNet-Lite0 on the synthetic shapes
# dataset (`python tools/make_synthetic_data.py`), a few minutes on a CPU.
_base_ = './deeplabv3p_effnetl0_camvid_1-8.py'
data_root = 'data/synthetic'
crop_size = (96, 96)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
val_set = dict(
    type='SyntheticShapesDataset',
    data_root=data_root,
    data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
    pipeline=test_pipeline)
# The synthetic shapes keep the demo's own settings, not the CamVid recipe
# (output stride 16, class weights, head lr x10, warm-up).
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(strides=None, dilations=None),
    decode_head=dict(
        num_classes=4,
        dilations=(1, 6, 12, 18),
        loss_decode=dict(
            _delete_=True, type='CrossEntropyLoss', loss_weight=1.0)),
    auxiliary_head=dict(
        num_classes=4,
        loss_decode=dict(
            _delete_=True, type='CrossEntropyLoss', loss_weight=0.4)))
optim_wrapper = dict(paramwise_cfg=dict(_delete_=True))
train_dataloader = dict(
    dataset=dict(
        dataset=dict(
            _delete_=True,
            type='SyntheticShapesDataset',
            data_root=data_root,
            data_prefix=dict(
                img_path='img_dir/train', seg_map_path='ann_dir/train'),
            pipeline=train_pipeline),
        split_file='splits/labeled.txt'))
val_dataloader = dict(dataset=dict(_delete_=True, **val_set))
test_dataloader = val_dataloader
max_iters = 1000
param_scheduler = [dict(_base_.param_scheduler[1], begin=0, end=max_iters)]
train_cfg = dict(max_iters=max_iters, val_interval=250)
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=250, save_best=None))
