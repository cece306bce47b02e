# Supervised-only baseline on CamVid 1/8 (45 labeled images): DeepLabV3+ on
# the ImageNet-pretrained EfficientNet-Lite0, 320x240 input, 192x192 crops,
# batch 8, 2k iterations; runs on a CPU.
_base_ = [
    '../_base_/models/deeplabv3plus_effnetl0.py',
    '../_base_/datasets/camvid.py',
    '../_base_/viladiff_runtime.py',
    'mmseg::_base_/schedules/schedule_20k.py',
]
crop_size = (192, 192)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
max_iters = 2000
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=500)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(
        by_epoch=False, interval=500, max_keep_ckpts=2, save_best='mIoU'))
