# The VOC 1/16 baseline with a ResNet-50-V1c backbone.
_base_ = './deeplabv3p_r101_voc_1-16.py'
model = dict(pretrained='open-mmlab://resnet50_v1c', backbone=dict(depth=50))
