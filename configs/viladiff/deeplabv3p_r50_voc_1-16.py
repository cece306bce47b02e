# Full ViLaDiff on VOC 1/16 with a ResNet-50-V1c backbone: only the backbone
# differs from deeplabv3p_r101_voc_1-16.py.
_base_ = './deeplabv3p_r101_voc_1-16.py'
model = dict(
    segmentor=dict(
        pretrained='open-mmlab://resnet50_v1c', backbone=dict(depth=50)))
