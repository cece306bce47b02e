# The embedded demo, semi-supervised: mean teacher on the synthetic shapes
# (40 labeled + 120 unlabeled images, `python tools/make_synthetic_data.py`).
_base_ = './meanteacher_effnetl0_camvid_1-8.py'
data_root = 'data/synthetic'
crop_size = (96, 96)
synthetic_train = dict(
    type='SyntheticShapesDataset',
    data_root=data_root,
    data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'))
labeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='MultiViewPack', views=dict(sup=[])),
]
unlabeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='MultiViewPack',
        views=dict(
            unsup_weak=[], unsup_strong=[dict(type='StrongPhotometricAug')])),
]
data_preprocessor = dict(size=crop_size)
# The synthetic shapes keep the demo's own settings, not the CamVid recipe
# (output stride 16, class weights, head lr x10, warm-up, 8 + 8 crops,
# per-class thresholds).
model = dict(
    segmentor=dict(
        data_preprocessor=data_preprocessor,
        backbone=dict(strides=None, dilations=None),
        decode_head=dict(
            num_classes=4,
            dilations=(1, 6, 12, 18),
            loss_decode=dict(
                _delete_=True, type='CrossEntropyLoss', loss_weight=1.0)),
        auxiliary_head=dict(
            num_classes=4,
            loss_decode=dict(
                _delete_=True, type='CrossEntropyLoss', loss_weight=0.4))),
    semi_train_cfg=dict(
        _delete_=True,
        threshold=0.95,
        unsup_weight=1.0,
        rampup_iters=100,
        cutmix_prob=0.5))
optim_wrapper = dict(paramwise_cfg=dict(_delete_=True))
batch_size = 8
train_dataloader = dict(
    batch_size=batch_size,
    sampler=dict(batch_size=batch_size),
    dataset=dict(datasets=[
        dict(
            type='PartitionDataset',
            dataset=dict(pipeline=labeled_pipeline, **synthetic_train),
            split_file='splits/labeled.txt'),
        dict(
            type='PartitionDataset',
            dataset=dict(pipeline=unlabeled_pipeline, **synthetic_train),
            split_file='splits/unlabeled.txt',
            with_label=False),
    ]))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='SyntheticShapesDataset',
        data_root=data_root,
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
max_iters = 1000
param_scheduler = [dict(_base_.param_scheduler[1], begin=0, end=max_iters)]
train_cfg = dict(max_iters=max_iters, val_interval=250)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=250))
