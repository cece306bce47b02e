# Mean teacher on CamVid 1/8: the supervised CamVid config made
# semi-supervised. Each batch holds 8 labeled crops (45 images), as many as
# the supervised row's batch, and 8 unlabeled crops (322 images); the EMA
# teacher labels the weak view, the student learns from the strong view
# (colour jitter, greyscale, blur, CutMix).
_base_ = '../baselines/deeplabv3p_effnetl0_camvid_1-8.py'

model = dict(
    _delete_=True,
    type='SemiEncoderDecoder',
    segmentor=_base_.model,
    semi_train_cfg=dict(
        # per-class thresholds: the median teacher confidence of each
        # predicted class, between 0.6 and 0.95, so rare classes get labels
        threshold=0.95,
        threshold_mode='class_percentile',
        class_percentile=0.5,
        threshold_floor=0.6,
        class_momentum=0.99,
        # BN statistics (which the teacher copies) from the labeled crops
        # only, which look like the weak views the teacher labels
        unsup_bn_stats=False,
        # plain CE on pseudo labels: the class weights of the supervised loss
        # would multiply the errors of the least precise (rare) classes
        unsup_class_weight=False,
        unsup_weight=1.0,
        rampup_iters=200,
        cutmix_prob=0.5),
    semi_test_cfg=dict(predict_on='teacher'))

labeled_pipeline = _base_.train_pipeline[:-1] + [
    dict(type='MultiViewPack', views=dict(sup=[]))
]
unlabeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResize',
        scale=_base_.img_scale,
        ratio_range=_base_.train_ratio_range,
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=_base_.crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='MultiViewPack',
        views=dict(
            unsup_weak=[], unsup_strong=[dict(type='StrongPhotometricAug')])),
]
batch_size = 16
train_dataloader = dict(
    batch_size=batch_size,
    sampler=dict(
        _delete_=True,
        type='LabeledUnlabeledSampler',
        batch_size=batch_size,
        source_ratio=(1, 1)),
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[
            dict(
                type='PartitionDataset',
                dataset=dict(_base_.camvid_train, pipeline=labeled_pipeline),
                split_file='splits/1-8/labeled.txt'),
            dict(
                type='PartitionDataset',
                dataset=dict(_base_.camvid_train, pipeline=unlabeled_pipeline),
                split_file='splits/1-8/unlabeled.txt',
                with_label=False),
        ]))

val_cfg = dict(type='TeacherStudentValLoop')
custom_hooks = _base_.custom_hooks + [
    dict(type='SemiMeanTeacherHook', momentum=0.99)
]
default_hooks = dict(checkpoint=dict(save_best='teacher/mIoU'))
