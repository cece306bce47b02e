# DIAGNOSTIC, reads labels, also of the unlabeled images: the VL mean
# teacher whose every training crop, labeled or not, is captioned from its
# own label map after the crop and flip (OracleCaptionFromLabel,
# 'oracle-regions': classes per 3x3 cell and counts of small objects); the
# unlabeled crops' label maps are dropped right after, so nothing but the
# caption reads them. Val and test read the same captions of the whole
# images from the caption file (`tools/generate_captions.py CONFIG
# --captioner oracle-regions`). An upper bound on what text could give the
# mean teacher, never a result (benchmarks/camvid_semi.py, row
# `meanteacher-vl-oracle-crop-prior`).
_base_ = [
    './meanteacher-vl_effnetl0_camvid_1-8.py',
    '../_base_/datasets/camvid_oracle_caption.py'
]

labeled, unlabeled = _base_.train_dataloader.dataset.datasets
# each pipeline: the base's without its caption file (step 1), the crop's
# own caption before packing; the unlabeled one loads the label map for it
labeled_steps = labeled.dataset.pipeline
unlabeled_steps = unlabeled.dataset.pipeline
train_dataloader = dict(
    dataset=dict(datasets=[
        dict(labeled, dataset=dict(labeled.dataset, pipeline=[
            labeled_steps[0], *labeled_steps[2:-1], _base_.oracle_caption,
            labeled_steps[-1]
        ])),
        dict(unlabeled, with_label=True, dataset=dict(
            unlabeled.dataset, pipeline=[
                unlabeled_steps[0], dict(type='LoadAnnotations'),
                *unlabeled_steps[2:-1],
                dict(_base_.oracle_caption, drop_label=True),
                unlabeled_steps[-1]
            ])),
    ]))
# every crop's caption is new: keep the embeddings out of the on-disk cache
model = dict(segmentor=dict(promptor=dict(cache_dir=None)))
