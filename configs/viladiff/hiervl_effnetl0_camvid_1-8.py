# HierVL-style semantic-query decoder (configs/_base_/hiervl.py, slim
# widths) on the CamVid 1/8 mean teacher: the DeepLabV3+ head is replaced by
# a SemanticQueryHead over all four EfficientNet-Lite0 levels, its queries
# made from the CamVid concept embeddings of the frozen MiniLM encoder. Data,
# schedule, auxiliary head and semi-supervised settings are the mean
# teacher's.
_base_ = [
    './meanteacher_effnetl0_camvid_1-8.py',
    '../_base_/models/vl_heads_effnetl0_camvid.py'
]
model = dict(
    segmentor=dict(
        decode_head=dict(
            _base_.hiervl_camvid_head,
            _delete_=True,
            loss_decode=_base_.model.segmentor.decode_head.loss_decode)))
optim_wrapper = _base_.hiervl_optim_wrapper
