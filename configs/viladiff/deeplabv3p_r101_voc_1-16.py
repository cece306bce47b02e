# Full ViLaDiff on VOC 2012 aug 1/16 (662 labeled / 9920 unlabeled images),
# DeepLabV3+ ResNet-101-V1c, 4 GPUs x (4 labeled + 4 unlabeled) 512x512
# crops: mean teacher + vision-language path (VLM captions, CLIP text,
# VLFusionNeck with distillation) + the edge-aware mixed-noise diffusion head
# on the stride-4 features, refining the teacher's pseudo labels and the test
# predictions in 3 steps. Supervised baseline:
# configs/baselines/deeplabv3p_r101_voc_1-16.py.
_base_ = ['./meanteacher-vl_r101_voc_1-16.py',
          '../_base_/models/diffusion_head_r101.py']
model = dict(
    segmentor=dict(type='VLCascadeEncoderDecoder', num_stages=2, decode_head=[
        _base_.model.segmentor.decode_head, _base_.diffusion_head]),
    semi_train_cfg=dict(refine_pseudo_labels=True))
