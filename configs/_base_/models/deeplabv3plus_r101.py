# MMSeg's DeepLabV3+ on the ImageNet-pretrained ResNet-101-V1c (output stride
# 8) for VOC: 21 classes, batches padded to 512x512 crops.
_base_ = 'mmseg::_base_/models/deeplabv3plus_r50-d8.py'
data_preprocessor = dict(size=(512, 512))
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained='open-mmlab://resnet101_v1c',
    backbone=dict(depth=101),
    decode_head=dict(num_classes=21),
    auxiliary_head=dict(num_classes=21))
