# HierVL-style semantic-query decoder (configs/_base_/hiervl.py, GPU
# widths) on the VOC 2012 aug 1/16 mean teacher: a SemanticQueryHead over
# the four ResNet-101 levels (stride 4, then 8 dilated), its queries made
# from the VOC concept embeddings of the frozen CLIP ViT-B/16 text tower.
_base_ = [
    './meanteacher_r101_voc_1-16.py', '../_base_/hiervl.py',
    '../_base_/models/class_text.py'
]
head = _base_.model.segmentor.decode_head
model = dict(
    segmentor=dict(
        decode_head=dict(
            _base_.hiervl_head,
            _delete_=True,
            promptor=_base_.voc_class_text,
            in_channels=[256, 512, 1024, 2048],
            in_index=[0, 1, 2, 3],
            num_classes=head.num_classes,
            loss_decode=head.loss_decode)))
optim_wrapper = _base_.hiervl_optim_wrapper
