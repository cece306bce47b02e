# SemiVL's language-guided decoder trained on the 45 labeled CamVid images
# only: the supervised baseline with its DeepLabV3+ head replaced by the
# slim VLGuidedHead of configs/viladiff/semivl_*. It gives the head its
# supervised phase before the mean teacher (benchmarks/camvid_semi.py, row
# `supervised-semivl`).
_base_ = [
    '../baselines/deeplabv3p_effnetl0_camvid_1-8.py',
    '../_base_/models/vl_heads_effnetl0_camvid.py'
]
model = dict(
    decode_head=dict(
        _base_.semivl_camvid_head,
        _delete_=True,
        loss_decode=_base_.model.decode_head.loss_decode))
