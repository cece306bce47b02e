# The text-guided decoders on the EfficientNet-Lite0 levels for CamVid, slim
# widths, with the CamVid concept embeddings of the frozen MiniLM encoder as
# class text. A config puts one in place of DeepLabV3+'s head, keeping that
# head's loss (`dict(_base_.semivl_camvid_head, _delete_=True,
# loss_decode=...)`): configs/viladiff/semivl_*, hiervl_* (mean teacher) and
# semivl-sup_*, hiervl-sup_* (supervised).
_base_ = ['../semivl.py', '../hiervl.py', './class_text.py']
# SemiVL's VLGuidedHead on the stride-16 level (320 channels), skips from the
# stride-8 and stride-4 levels
semivl_camvid_head = dict(
    _base_.semivl_head_slim,
    promptor=_base_.camvid_class_text,
    in_channels=[24, 40, 320],
    in_index=[0, 1, 3],
    num_classes=11)
# HierVL-style SemanticQueryHead over all four levels
hiervl_camvid_head = dict(
    _base_.hiervl_head_slim,
    promptor=_base_.camvid_class_text,
    in_channels=[24, 40, 112, 320],
    in_index=[0, 1, 2, 3],
    num_classes=11)
