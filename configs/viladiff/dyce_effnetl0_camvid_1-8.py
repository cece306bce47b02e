# DyCE (SemiDAViL, seed 003) on the CamVid 1/8 mean teacher: both heads'
# losses weight each class by the running frequency f_c of the labels they
# see, w_c = (K f_c)^(omega - 1) with SemiDAViL's omega = 0.5, instead of the
# mean teacher's static median-frequency weights of the labeled images (w_c
# ~ 1/f_c). The pseudo labels are weighted too and counted into f
# (unsup_class_weight=True): balancing them is the point of DyCE in a
# semi-supervised loop. Formula and its relation to SemiDAViL's released
# loss: mmseg_viladiff/models/losses/dynamic_class_balanced_ce.py.
_base_ = './meanteacher_effnetl0_camvid_1-8.py'
dyce = dict(
    type='DynamicClassBalancedCELoss',
    num_classes=_base_.model.segmentor.decode_head.num_classes,
    omega=0.5,
    # two updates an iteration (labeled and unlabeled forward): a window of
    # about 50 iterations
    momentum=0.99)
model = dict(
    segmentor=dict(
        decode_head=dict(loss_decode=dict(dyce, _delete_=True)),
        auxiliary_head=dict(
            loss_decode=dict(dyce, _delete_=True, loss_weight=0.4))),
    semi_train_cfg=dict(unsup_class_weight=True))
