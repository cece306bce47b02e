# Supervised-only baseline on CamVid 1/8 (45 labeled images): DeepLabV3+ on
# the ImageNet-pretrained EfficientNet-Lite0 at output stride 16, tested at
# the native 480x360, trained on 192x192 crops, batch 8; runs on a CPU.
# Each recipe decision and its measured effect: README, "CamVid recipe".
_base_ = [
    '../_base_/models/deeplabv3plus_effnetl0.py',
    '../_base_/datasets/camvid.py',
    '../_base_/viladiff_runtime.py',
    'mmseg::_base_/schedules/schedule_20k.py',
]
crop_size = (192, 192)
data_preprocessor = dict(size=crop_size)
# median-frequency class weights of the labeled images only, written by
# `python tools/class_weights.py THIS_CONFIG --out FILE`
class_weight = '{{fileDirname}}/../_base_/datasets/camvid_1-8_class_weights.json'
model = dict(
    data_preprocessor=data_preprocessor,
    # output stride 16: the last two stages keep stride 16, dilated by 2
    backbone=dict(strides=(1, 2, 2, 2, 1, 1, 1), dilations=(1, 1, 1, 1, 1, 2, 2)),
    # ASPP rates for a 12x12 map (192 crops at stride 16)
    decode_head=dict(
        dilations=(1, 2, 4, 6),
        loss_decode=dict(
            _delete_=True,
            type='ClassBalancedCrossEntropyLoss',
            class_weight=class_weight)),
    auxiliary_head=dict(
        loss_decode=dict(
            _delete_=True,
            type='ClassBalancedCrossEntropyLoss',
            class_weight=class_weight,
            loss_weight=0.4)))
# randomly initialised heads learn 10x faster than the pretrained backbone
optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys=dict(
            decode_head=dict(lr_mult=10.0),
            auxiliary_head=dict(lr_mult=10.0))))
max_iters = 2000
warmup_iters = 100
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        begin=0,
        end=warmup_iters,
        by_epoch=False),
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=warmup_iters,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=500)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(
        by_epoch=False, interval=500, max_keep_ckpts=2, save_best='mIoU'))
