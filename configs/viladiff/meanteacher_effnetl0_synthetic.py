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
model = dict(
    segmentor=dict(
        data_preprocessor=data_preprocessor,
        decode_head=dict(num_classes=4),
        auxiliary_head=dict(num_classes=4)),
    semi_train_cfg=dict(rampup_iters=100))
train_dataloader = dict(
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
param_scheduler = [dict(_base_.param_scheduler[0], end=max_iters)]
train_cfg = dict(max_iters=max_iters, val_interval=250)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=250))
