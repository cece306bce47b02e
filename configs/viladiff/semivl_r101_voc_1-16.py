# SemiVL's language-guided decoder (configs/_base_/semivl.py, SemiVL's
# widths) on the VOC 2012 aug 1/16 mean teacher: a VLGuidedHead on the
# stride-8 ResNet-101 level (2048 channels) against the VOC concept
# embeddings of the frozen CLIP ViT-B/16 text tower (max over each class's
# phrases), with skips from layer2 (stride 8) and layer1 (stride 4); plus
# SemiVL's dense guidance: pseudo labels from the frozen CLIP ViT-B/16's
# MaskCLIP predictions with the VOC concepts (weight 0.1 -> 0 over the run).
_base_ = [
    './meanteacher_r101_voc_1-16.py', '../_base_/semivl.py',
    '../_base_/models/class_text.py'
]
head = _base_.model.segmentor.decode_head
model = dict(
    semi_train_cfg=dict(
        dense_guidance=dict(_base_.semivl_dense_guidance, vocabulary='voc')),
    segmentor=dict(
        decode_head=dict(
            _base_.semivl_head,
            _delete_=True,
            promptor=_base_.voc_class_text,
            in_channels=[256, 512, 2048],
            in_index=[0, 1, 3],
            num_classes=head.num_classes,
            loss_decode=head.loss_decode)))
