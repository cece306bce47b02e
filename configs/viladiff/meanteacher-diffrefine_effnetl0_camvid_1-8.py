# Mean teacher on CamVid 1/8 whose pseudo labels are refined by the
# edge-aware mixed-noise diffusion head: DeepLabV3+ gives the first
# prediction, EdgeAwareMixDiffusionHead (on the stride-4 and decoder
# features; RefineCascadeEncoderDecoder links them) refines it
# in 3 denoising steps, for the teacher's pseudo labels and at test time.
_base_ = ['./meanteacher_effnetl0_camvid_1-8.py',
          '../_base_/models/diffusion_head_effnetl0.py']
model = dict(
    segmentor=dict(type='RefineCascadeEncoderDecoder', num_stages=2, decode_head=[
        _base_.model.segmentor.decode_head, _base_.diffusion_head]),
    semi_train_cfg=dict(refine_pseudo_labels=True))
