# Mean teacher on VOC 2012 aug 1/16 (662 labeled / 9920 unlabeled images):
# the supervised R101 baseline made semi-supervised. 4 GPUs x (4 labeled +
# 4 unlabeled) 512x512 crops; the EMA teacher labels the weak view, the
# student learns from the strong view (colour jitter, greyscale, blur,
# CutMix). The partitions come from `tools/make_splits.py`.
_base_ = '../baselines/deeplabv3p_r101_voc_1-16.py'

model = dict(
    _delete_=True,
    type='SemiEncoderDecoder',
    segmentor=_base_.model,
    semi_train_cfg=dict(
        threshold=0.95, unsup_weight=1.0, rampup_iters=1000, cutmix_prob=0.5),
    semi_test_cfg=dict(predict_on='teacher'))

labeled_pipeline = _base_.train_pipeline[:-1] + [
    dict(type='MultiViewPack', views=dict(sup=[]))
]
unlabeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResize',
        scale=(2048, 512),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=_base_.crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='MultiViewPack',
        views=dict(
            unsup_weak=[], unsup_strong=[dict(type='StrongPhotometricAug')])),
]


def voc_aug(pipeline):
    return dict(
        type='ConcatDataset',
        datasets=[
            dict(_base_.dataset_train, pipeline=pipeline),
            dict(_base_.dataset_aug, pipeline=pipeline)
        ])


batch_size = 8
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
                dataset=voc_aug(labeled_pipeline),
                split_file='splits/1-16/labeled.txt'),
            dict(
                type='PartitionDataset',
                dataset=voc_aug(unlabeled_pipeline),
                split_file='splits/1-16/unlabeled.txt',
                with_label=False),
        ]))

val_cfg = dict(type='TeacherStudentValLoop')
custom_hooks = _base_.custom_hooks + [
    dict(type='SemiMeanTeacherHook', momentum=0.999)
]
default_hooks = dict(checkpoint=dict(save_best='teacher/mIoU'))
