# UniMatch-style perturbations on CamVid 1/8: the mean teacher (EMA teacher
# pseudo labels, per-class thresholds, ramp-up, BN statistics from labeled
# crops) plus a second strong view of every unlabeled crop, with its own
# colour jitter, greyscale, blur and CutMix, and the feature-perturbation
# branch, weighted as UniMatch (configs/_base_/unimatch.py).
_base_ = ['./meanteacher_effnetl0_camvid_1-8.py', '../_base_/unimatch.py']

model = dict(semi_train_cfg=_base_.unimatch_semi_train_cfg)

# the mean teacher's unlabeled pipeline plus the second strong view
unlabeled_pipeline = _base_.unlabeled_pipeline[:-1] + [
    dict(_base_.unlabeled_pipeline[-1], views=dict(
        _base_.unlabeled_pipeline[-1].views, **_base_.unimatch_views))
]
labeled_part, unlabeled_part = _base_.train_dataloader.dataset.datasets
train_dataloader = dict(dataset=dict(datasets=[
    labeled_part,
    dict(unlabeled_part,
         dataset=dict(unlabeled_part.dataset, pipeline=unlabeled_pipeline))
]))
