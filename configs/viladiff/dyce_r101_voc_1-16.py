# DyCE (SemiDAViL, seed 003) on the VOC 2012 aug 1/16 mean teacher: both
# heads' cross-entropy weights each class by the running frequency f_c of
# the labels and pseudo labels they see, w_c = (K f_c)^(omega - 1) with
# SemiDAViL's omega = 0.5. Formula: mmseg_viladiff/models/losses/
# dynamic_class_balanced_ce.py; CamVid counterpart:
# dyce_effnetl0_camvid_1-8.py.
_base_ = './meanteacher_r101_voc_1-16.py'
dyce = dict(
    type='DynamicClassBalancedCELoss',
    num_classes=_base_.model.segmentor.decode_head.num_classes,
    omega=0.5,
    momentum=0.99)
model = dict(
    segmentor=dict(
        decode_head=dict(loss_decode=dict(dyce, _delete_=True)),
        auxiliary_head=dict(
            loss_decode=dict(dyce, _delete_=True, loss_weight=0.4))),
    semi_train_cfg=dict(unsup_class_weight=True))
