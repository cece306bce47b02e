# Cross-image distillation (seed 004) on the VOC 2012 aug 1/16 mean
# teacher, applied to the student's deepest backbone features (ResNet-101:
# 2048 channels, stride 8) of the labeled and the strong unlabeled crops.
_base_ = [
    './meanteacher_r101_voc_1-16.py',
    '../_base_/models/cross_image_distill.py'
]
model = dict(
    semi_train_cfg=dict(
        feature_distill=_base_.feature_distill, feature_distill_level=-1))
