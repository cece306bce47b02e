# DIAGNOSTIC, reads labels: vl-sup_effnetl0_camvid_1-8.py whose training
# crops get captions written from their own label maps after the crop and
# flip (OracleCaptionFromLabel, 'oracle-regions': classes per 3x3 cell and
# counts of small objects), so the position words match what the crop
# shows; val and test read the same captions of the whole images from the
# caption file (`tools/generate_captions.py CONFIG --captioner
# oracle-regions`). An upper bound on what text could give, never a result
# (benchmarks/camvid_semi.py, row `supervised-vl-oracle-crop`).
_base_ = [
    './vl-sup_effnetl0_camvid_1-8.py',
    '../_base_/datasets/camvid_oracle_caption.py'
]

# the base's train pipeline without its caption file, the crop's own
# caption before packing
train_pipeline = [
    _base_.train_pipeline[0], *_base_.train_pipeline[2:-1],
    _base_.oracle_caption, _base_.train_pipeline[-1]
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
# every crop's caption is new: keep the embeddings out of the on-disk cache
# (in memory for the run, about 2 MB per iteration of 8 crops)
model = dict(promptor=dict(cache_dir=None))
