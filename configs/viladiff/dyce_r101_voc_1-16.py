# DyCE (SemiDAViL, seed 003, configs/_base_/dyce.py) on the VOC 2012 aug 1/16 mean
# teacher, in both heads.
_base_ = ['./meanteacher_r101_voc_1-16.py', '../_base_/dyce.py']
loss = dict(
    _base_.dyce, num_classes=_base_.model.segmentor.decode_head.num_classes)
model = dict(
    segmentor=dict(
        decode_head=dict(loss_decode=loss),
        auxiliary_head=dict(loss_decode=dict(loss, loss_weight=0.4))),
    semi_train_cfg=dict(unsup_class_weight=True))
