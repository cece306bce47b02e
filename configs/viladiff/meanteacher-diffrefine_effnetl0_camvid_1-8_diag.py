# Benchmark-only diagnostic mode of the diffusion-refined mean teacher: the
# diagnostic mean teacher (meanteacher_effnetl0_camvid_1-8_diag.py) with the
# diffusion head of meanteacher-diffrefine_effnetl0_camvid_1-8.py; logs
# pseudo-label quality after (pseudo_acc, pseudo_miou) and before
# (first_pseudo_acc, first_pseudo_miou) refinement, against the labels of
# the unlabeled partition, which never reach a loss.
_base_ = ['./meanteacher_effnetl0_camvid_1-8_diag.py',
          '../_base_/models/diffusion_head_effnetl0.py']
model = dict(
    segmentor=dict(type='RefineCascadeEncoderDecoder', num_stages=2, decode_head=[
        _base_.model.segmentor.decode_head, _base_.diffusion_head]),
    semi_train_cfg=dict(refine_pseudo_labels=True))
