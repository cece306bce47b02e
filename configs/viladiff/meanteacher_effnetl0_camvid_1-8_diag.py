# Benchmark-only diagnostic mode: the unlabeled partition's labels are loaded
# as well and pseudo labels are scored against them every iteration
# (train/pseudo_acc, pseudo_conf_acc, pseudo_miou). The labels never reach a
# loss: SemiEncoderDecoder reads them only in pseudo_label_quality(), after
# the pseudo labels are fixed (tested). Needs labels for the unlabeled
# images, so it is for benchmarks such as CamVid, never for real unlabeled
# data.
_base_ = './meanteacher_effnetl0_camvid_1-8.py'
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
