# Mean teacher on VOC 2012 aug 1/16 (662 labeled / 9920 unlabeled images):
# the supervised R101 baseline (the `_base_` files of
# configs/baselines/deeplabv3p_r101_voc_1-16.py) made semi-supervised. 4 GPUs
# x (4 labeled + 4 unlabeled) 512x512 crops; the EMA teacher labels the weak
# view, the student learns from the strong view (colour jitter, greyscale,
# blur, CutMix). The partitions come from `tools/make_splits.py`.
_base_ = [
    '../_base_/models/deeplabv3plus_r101.py',
    '../_base_/datasets/voc12aug_1-16.py',
    '../_base_/viladiff_runtime.py',
    'mmseg::_base_/schedules/schedule_20k.py',
]
batch_size = 8  # per GPU: 4 labeled + 4 unlabeled

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
train_dataloader = dict(
    # the supervised labeled partition and its unlabeled complement, both of
    # VOC train + SBD aug, each with its own pipeline
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[
            dict(
                _base_.train_dataloader.dataset,
                dataset=dict(
                    type='ConcatDataset',
                    datasets=[
                        dict(src, pipeline=labeled_pipeline)
                        for src in (_base_.dataset_train, _base_.dataset_aug)
                    ])),
            dict(
                _base_.train_dataloader.dataset,
                split_file='splits/1-16/unlabeled.txt',
                with_label=False,
                dataset=dict(
                    type='ConcatDataset',
                    datasets=[
                        dict(src, pipeline=unlabeled_pipeline)
                        for src in (_base_.dataset_train, _base_.dataset_aug)
                    ])),
        ]),
    sampler=dict(
        _delete_=True,
        type='LabeledUnlabeledSampler',
        batch_size=batch_size,
        source_ratio=(1, 1)),
    batch_size=batch_size)

model = dict(
    _delete_=True,
    type='SemiEncoderDecoder',
    segmentor=_base_.model,
    semi_train_cfg=dict(
        threshold=0.95, unsup_weight=1.0, rampup_iters=1000, cutmix_prob=0.5),
    semi_test_cfg=dict(predict_on='teacher'))

val_cfg = dict(type='TeacherStudentValLoop')
custom_hooks = _base_.custom_hooks + [
    dict(type='SemiMeanTeacherHook', momentum=0.999)
]
default_hooks = dict(checkpoint=dict(save_best='teacher/mIoU'))
