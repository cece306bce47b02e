# SemiVL's language-guided decoder (configs/_base_/semivl.py, slim widths)
# on the CamVid 1/8 mean teacher: the DeepLabV3+ head is replaced by a
# VLGuidedHead reading the stride-16 EfficientNet-Lite0 level (320 channels)
# against the CamVid concept embeddings of the frozen MiniLM encoder, with
# skips from the stride-8 and stride-4 levels. Data, schedule, auxiliary
# head and semi-supervised settings are the mean teacher's.
_base_ = [
    './meanteacher_effnetl0_camvid_1-8.py',
    '../_base_/models/vl_heads_effnetl0_camvid.py'
]
model = dict(
    segmentor=dict(
        decode_head=dict(
            _base_.semivl_camvid_head,
            _delete_=True,
            loss_decode=_base_.model.segmentor.decode_head.loss_decode)))
