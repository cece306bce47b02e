# Cross-image distillation (seed 004) on the CamVid 1/8 mean teacher,
# applied to the student's deepest backbone features (EfficientNet-Lite0:
# 320 channels, stride 16) of the labeled and the strong unlabeled crops.
_base_ = [
    './meanteacher_effnetl0_camvid_1-8.py',
    '../_base_/models/cross_image_distill.py'
]
model = dict(
    semi_train_cfg=dict(
        feature_distill=_base_.feature_distill, feature_distill_level=-1))
