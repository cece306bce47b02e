# Benchmark-only diagnostic mode of the diffusion-refined mean teacher: logs
# pseudo-label quality after (pseudo_acc, pseudo_miou) and before
# (first_pseudo_acc, first_pseudo_miou) refinement, against the labels of
# the unlabeled partition, which never reach a loss.
_base_ = './meanteacher-diffrefine_effnetl0_camvid_1-8.py'
model = dict(semi_train_cfg=dict(diagnostics=True))
unlabeled_pipeline = _base_.unlabeled_pipeline[:1] + [
    dict(type='LoadAnnotations')
] + _base_.unlabeled_pipeline[1:]
train_dataloader = dict(
    dataset=dict(datasets=[
        _base_.train_dataloader.dataset.datasets[0],
        dict(
            _base_.train_dataloader.dataset.datasets[1],
            with_label=True,
            dataset=dict(_base_.camvid_train, pipeline=unlabeled_pipeline)),
    ]))
