# UniMatch-style perturbations on VOC 2012 aug 1/16 with the R101
# DeepLabV3+: the mean teacher plus a second strong view of every unlabeled
# crop (its own colour jitter, greyscale, blur and CutMix) and the
# feature-perturbation branch, weighted as UniMatch
# (configs/_base_/unimatch.py).
_base_ = ['./meanteacher_r101_voc_1-16.py', '../_base_/unimatch.py']

model = dict(semi_train_cfg=_base_.unimatch_semi_train_cfg)

# the mean teacher's unlabeled pipeline plus the second strong view, in both
# sources (VOC train and SBD aug)
unlabeled_pipeline = _base_.unlabeled_pipeline[:-1] + [
    dict(_base_.unlabeled_pipeline[-1], views=dict(
        _base_.unlabeled_pipeline[-1].views, **_base_.unimatch_views))
]
labeled_part, unlabeled_part = _base_.train_dataloader.dataset.datasets
unlabeled_sources = unlabeled_part.dataset.datasets
train_dataloader = dict(dataset=dict(datasets=[
    labeled_part,
    dict(unlabeled_part, dataset=dict(unlabeled_part.dataset, datasets=[
        dict(source, pipeline=unlabeled_pipeline)
        for source in unlabeled_sources
    ]))
]))
