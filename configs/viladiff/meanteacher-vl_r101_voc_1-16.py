# Mean teacher on VOC 2012 aug 1/16 with the vision-language path: captions
# of every image from a captioning VLM (`tools/generate_captions.py`, e.g.
# BLIP-2 on GPUs, written to `captions.jsonl` under the VOC data root), the
# frozen CLIP ViT-B/16 text encoder, and VLFusionNeck on the two deepest
# (stride-8, dilated) ResNet levels; a distilled vision-only path serves
# text-free inference.
_base_ = ['./meanteacher_r101_voc_1-16.py', '../_base_/datasets/captions.py']

data_root = 'data/VOCdevkit/VOC2012'
load_caption = dict(
    type='LoadCaption',
    cache_file='captions.jsonl',
    data_root=data_root,
    on_missing='error')
pack = dict(type='PackSegInputs', meta_keys=_base_.caption_meta_keys)
model = dict(
    segmentor=dict(
        type='VLEncoderDecoder',
        promptor=dict(
            type='CaptionPromptor',
            # open_clip fetches the OpenAI weights once into its cache
            text_encoder=dict(
                type='OpenCLIPTextEncoder',
                model_name='ViT-B-16',
                pretrained='openai',
                allow_download=True),
            vocabulary='voc',
            use_definitions=True,
            cache_dir='work_dirs/text_cache'),
        neck=dict(
            type='VLFusionNeck',
            in_channels=[256, 512, 1024, 2048],
            text_dim=512,
            num_classes=21,
            caption_levels=(-2, -1),
            class_levels=(-1, ),
            embed_dims=256,
            num_heads=8,
            infer_mode='vision',
            caption_dropout=0.2,
            align_weight=0.5,
            distill_weight=1.0)),
    semi_train_cfg=dict(teacher_text_mode='caption'))

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


def voc_aug(pipeline):
    return dict(
        type='ConcatDataset',
        datasets=[
            dict(_base_.dataset_train, pipeline=pipeline),
            dict(_base_.dataset_aug, pipeline=pipeline)
        ])


train_dataloader = dict(
    dataset=dict(datasets=[
        dict(
            type='PartitionDataset',
            dataset=voc_aug(labeled_pipeline),
            split_file='splits/1-16/labeled.txt'),
        dict(
            type='PartitionDataset',
            dataset=voc_aug(unlabeled_pipeline),
            split_file='splits/1-16/unlabeled.txt',
            with_label=False),
    ]))
# images first (mmseg.apis.inference_model swaps step 0 for in-memory
# images); images without a caption stay uncaptioned (see LoadCaption)
test_pipeline = _base_.test_pipeline[:1] + [
    dict(load_caption, on_missing='skip')
] + _base_.test_pipeline[1:-1] + [pack]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
