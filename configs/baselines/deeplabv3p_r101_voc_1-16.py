# Supervised-only baseline: DeepLabV3+ ResNet-101-V1c trained on the 1/16
# labeled partition of VOC 2012 aug (662 images), 4 GPUs x 4 images, 20k
# iterations, 512x512 crops. Later issues turn this into the full ViLaDiff
# method (mean teacher + vision-language path + diffusion refinement).
_base_ = [
    '../_base_/models/deeplabv3plus_r101.py',
    '../_base_/datasets/voc12aug_1-16.py',
    '../_base_/viladiff_runtime.py',
    'mmseg::_base_/schedules/schedule_20k.py',
]
