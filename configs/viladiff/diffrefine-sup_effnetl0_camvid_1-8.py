# Supervised DeepLabV3+ on CamVid 1/8 (45 labeled images) with the
# edge-aware mixed-noise diffusion head refining its prediction: the
# supervised baseline made a RefineCascadeEncoderDecoder (the refiner reads
# the stride-4 and decoder features, 3 denoising steps from step T). A plain
# checkpoint of the baseline loads into the first head (`load_from`), so the
# refiner can get its own supervised phase before the mean teacher
# (benchmarks/camvid_semi.py, row `supervised-diffrefine`).
_base_ = ['../baselines/deeplabv3p_effnetl0_camvid_1-8.py',
          '../_base_/models/diffusion_head_effnetl0.py']
model = dict(
    type='RefineCascadeEncoderDecoder',
    num_stages=2,
    decode_head=[_base_.model.decode_head, _base_.diffusion_head])
