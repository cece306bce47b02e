# Mean teacher on VOC 2012 aug 1/16 with the vision-language path: captions
# of every image from a captioning VLM (`tools/generate_captions.py`, e.g.
# BLIP-2 on GPUs, written to `captions.jsonl` under the VOC data root), the
# frozen CLIP ViT-B/16 text encoder, and VLFusionNeck on the two deepest
# (stride-8, dilated) ResNet levels; a distilled vision-only path serves
# text-free inference.
_base_ = [
    './meanteacher_r101_voc_1-16.py', '../_base_/models/vl_path_r101.py',
    '../_base_/datasets/captions.py'
]

model = dict(
    segmentor=dict(
        type='VLEncoderDecoder', promptor=_base_.promptor,
        neck=_base_.vl_neck),
    semi_train_cfg=dict(teacher_text_mode='caption'))

load_caption = dict(
    type='LoadCaption',
    cache_file='captions.jsonl',
    data_root=_base_.data_root,
    on_missing='error')
pack = dict(type='PackSegInputs', meta_keys=_base_.caption_meta_keys)
labeled_pipeline = _base_.labeled_pipeline[:1] + [
    load_caption
] + _base_.labeled_pipeline[1:-1] + [
    dict(_base_.labeled_pipeline[-1], pack=pack)
]
unlabeled_pipeline = _base_.unlabeled_pipeline[:1] + [
    load_caption
] + _base_.unlabeled_pipeline[1:-1] + [
    dict(_base_.unlabeled_pipeline[-1], pack=pack)
]
train_dataloader = dict(
    dataset=dict(datasets=[
        dict(
            partition,
            dataset=dict(
                type='ConcatDataset',
                datasets=[
                    dict(_base_.dataset_train, pipeline=pipeline),
                    dict(_base_.dataset_aug, pipeline=pipeline)
                ])) for partition, pipeline in zip(
                    _base_.train_dataloader.dataset.datasets,
                    [labeled_pipeline, unlabeled_pipeline])
    ]))
# images first (mmseg.apis.inference_model swaps step 0 for in-memory
# images); images without a caption stay uncaptioned (see LoadCaption)
test_pipeline = _base_.test_pipeline[:1] + [
    dict(load_caption, on_missing='skip')
] + _base_.test_pipeline[1:-1] + [pack]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
