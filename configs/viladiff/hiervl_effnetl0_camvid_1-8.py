# HierVL-style semantic-query decoder (configs/_base_/hiervl.py, slim
# widths) on the CamVid 1/8 mean teacher: the DeepLabV3+ head is replaced by
# a SemanticQueryHead over all four EfficientNet-Lite0 levels, its queries
# made from the CamVid concept embeddings of the frozen MiniLM encoder. Data,
# schedule, auxiliary head and semi-supervised settings are the mean
# teacher's.
_base_ = [
    './meanteacher_effnetl0_camvid_1-8.py', '../_base_/hiervl.py',
    '../_base_/models/class_text.py'
]
head = _base_.model.segmentor.decode_head
model = dict(
    segmentor=dict(
        decode_head=dict(
            _base_.hiervl_head_slim,
            _delete_=True,
            promptor=_base_.camvid_class_text,
            in_channels=[24, 40, 112, 320],
            in_index=[0, 1, 2, 3],
            num_classes=head.num_classes,
            loss_decode=head.loss_decode)))
optim_wrapper = _base_.hiervl_optim_wrapper
