# CamVid, 11 classes (SegNet layout), evaluated at the native 480x360 as
# published results are; training rescales images to 0.5-1x of 480x360 and
# takes 192x192 crops (CPU-sized). Training uses the labeled partition
# `splits/1-8` (45 images); `configs/baselines/deeplabv3p_effnetl0_camvid_
# full.py` trains on all 367.
dataset_type = 'CamVidDataset'
data_root = 'data/camvid'
img_scale = (480, 360)
train_ratio_range = (0.5, 1.0)
crop_size = (192, 192)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=img_scale,
        ratio_range=train_ratio_range,
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
camvid_train = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='train.txt',
    data_prefix=dict(img_path='train', seg_map_path='trainannot'),
    pipeline=train_pipeline)
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='PartitionDataset',
        dataset=camvid_train,
        split_file='splits/1-8/labeled.txt'))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='val.txt',
        data_prefix=dict(img_path='val', seg_map_path='valannot'),
        pipeline=test_pipeline))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(
        val_dataloader['dataset'],
        ann_file='test.txt',
        data_prefix=dict(img_path='test', seg_map_path='testannot')))
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
