# Full ViLaDiff on the synthetic shapes (a few minutes on a CPU): the mean
# teacher demo plus the vision-language path (the generator's captions,
# MiniLM, VLFusionNeck) and the diffusion refinement head.
_base_ = [
    './meanteacher_effnetl0_synthetic.py',
    '../_base_/models/vl_path_effnetl0.py', '../_base_/datasets/captions.py',
    '../_base_/models/diffusion_head_effnetl0.py'
]
num_classes = 4
model = dict(
    segmentor=dict(
        type='VLCascadeEncoderDecoder',
        num_stages=2,
        promptor=dict(
            _base_.promptor,
            vocabulary=dict(
                name='synthetic',
                classes=['background', 'disc', 'square', 'triangle'])),
        neck=dict(_base_.vl_neck, num_classes=num_classes),
        decode_head=[
            _base_.model.segmentor.decode_head,
            dict(_base_.diffusion_head, num_classes=num_classes)
        ]),
    semi_train_cfg=dict(refine_pseudo_labels=True))

load_caption = dict(
    type='LoadCaption',
    cache_file='captions.jsonl',
    data_root=_base_.data_root)
pack = dict(type='PackSegInputs', meta_keys=_base_.caption_meta_keys)
# the demo's pipelines with the caption after the image, packed with the
# sample
labeled_pipeline = [
    dict(type='LoadImageFromFile'),
    load_caption,
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(_base_.labeled_pipeline[-1], pack=pack),
]
unlabeled_pipeline = [
    dict(type='LoadImageFromFile'),
    load_caption,
    dict(type='RandomFlip', prob=0.5),
    dict(_base_.unlabeled_pipeline[-1], pack=pack),
]
train_dataloader = dict(
    dataset=dict(datasets=[
        dict(partition, dataset=dict(partition.dataset, pipeline=pipeline))
        for partition, pipeline in zip(
            _base_.train_dataloader.dataset.datasets,
            [labeled_pipeline, unlabeled_pipeline])
    ]))
# images first (mmseg.apis.inference_model swaps step 0 for in-memory
# images); images without a caption stay uncaptioned (see LoadCaption)
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(load_caption, on_missing='skip'),
    dict(type='LoadAnnotations'), pack
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
