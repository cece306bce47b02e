# The embedded demo, semi-supervised: mean teacher on the synthetic shapes
# (40 labeled + 120 unlabeled images, `python tools/make_synthetic_data.py`):
# the CamVid mean teacher with the demo's data and segmentor
# (`_base_/synthetic_demo.py`) and schedule.
_base_ = [
    './meanteacher_effnetl0_camvid_1-8.py', '../_base_/synthetic_demo.py'
]
data_root = 'data/synthetic'
crop_size = (96, 96)
# Runner hands the top-level data_preprocessor to SemiEncoderDecoder
data_preprocessor = dict(size=crop_size)
model = dict(
    segmentor=_base_.synthetic_segmentor,
    # one fixed threshold, not CamVid's per-class thresholds
    semi_train_cfg=dict(
        _delete_=True,
        threshold=0.95,
        unsup_weight=1.0,
        rampup_iters=100,
        cutmix_prob=0.5))
# the demo's own schedule (here and below), without the CamVid recipe's
# head lr x10 and warm-up
optim_wrapper = dict(paramwise_cfg=dict(_delete_=True))
# no resizing or cropping; the mean teacher's views as on CamVid
labeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5), _base_.labeled_pipeline[-1]
]
unlabeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5), _base_.unlabeled_pipeline[-1]
]
batch_size = 8  # 4 labeled + 4 unlabeled
train_dataloader = dict(
    batch_size=batch_size,
    sampler=dict(batch_size=batch_size),
    dataset=dict(datasets=[
        dict(
            type='PartitionDataset',
            dataset=dict(pipeline=labeled_pipeline, **_base_.synthetic_train),
            split_file='splits/labeled.txt'),
        dict(
            type='PartitionDataset',
            dataset=dict(
                pipeline=unlabeled_pipeline, **_base_.synthetic_train),
            split_file='splits/unlabeled.txt',
            with_label=False),
    ]))
test_pipeline = _base_.val_set.pipeline
val_dataloader = dict(dataset=dict(_delete_=True, **_base_.val_set))
test_dataloader = val_dataloader
max_iters = 1000
param_scheduler = [dict(_base_.param_scheduler[1], begin=0, end=max_iters)]
train_cfg = dict(max_iters=max_iters, val_interval=250)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=250))
# one seed (model initialisation, sampling, augmentation, CutMix), so two
# runs of the demo on the same machine train the same model; another seed:
# --cfg-options randomness.seed=N
randomness = dict(seed=0)
