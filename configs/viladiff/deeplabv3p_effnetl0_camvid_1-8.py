# Full ViLaDiff on CamVid 1/8, CPU-sized: mean teacher (EfficientNet-Lite0
# DeepLabV3+, 45 labeled / 322 unlabeled images) + the vision-language path
# (template captions, MiniLM, VLFusionNeck with distillation) + the
# edge-aware mixed-noise diffusion head, which refines DeepLabV3+'s
# prediction in 3 steps for the teacher's pseudo labels and at test time.
_base_ = ['./meanteacher-vl_effnetl0_camvid_1-8.py',
          '../_base_/models/diffusion_head_effnetl0.py']
model = dict(
    segmentor=dict(type='VLCascadeEncoderDecoder', num_stages=2, decode_head=[
        _base_.model.segmentor.decode_head, _base_.diffusion_head]),
    semi_train_cfg=dict(refine_pseudo_labels=True))
