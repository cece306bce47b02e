# UniMatch's perturbations (configs/viladiff/unimatch_effnetl0_camvid_1-8.py)
# with DyCE (configs/_base_/dyce.py) in both heads: the two neighbouring
# methods that each raised the CamVid 1/8 teacher's val mIoU over the mean
# teacher's (benchmarks/results/camvid_semi.md), combined.
_base_ = ['./unimatch_effnetl0_camvid_1-8.py', '../_base_/dyce.py']
loss = dict(
    _base_.dyce, num_classes=_base_.model.segmentor.decode_head.num_classes)
model = dict(
    segmentor=dict(
        decode_head=dict(loss_decode=loss),
        auxiliary_head=dict(loss_decode=dict(loss, loss_weight=0.4))),
    semi_train_cfg=dict(unsup_class_weight=True))
