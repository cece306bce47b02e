"""SemiEncoderDecoder with SemiVL's dense CLIP guidance (tiny local CLIP)."""
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from helpers import save_tiny_clip
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_viladiff.engine.hooks import SemiMeanTeacherHook
from mmseg_viladiff.models.segmentors import semi_encoder_decoder
from mmseg_viladiff.utils import ConfigError

VOCAB = dict(
    name='tiny',
    classes=['sky', 'road', 'car'],
    concepts=[['sky', 'clouds'], ['road'], ['car', 'van', 'bus']])
NUM_CLASSES = 3


@pytest.fixture(scope='module')
def tiny_clip(tmp_path_factory):
    return save_tiny_clip(str(tmp_path_factory.mktemp('clip')))


def _segmentor():
    norm = dict(type='BN', requires_grad=True)
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            size=(32, 32)),
        backbone=dict(
            type='ResNetV1c',
            depth=18,
            stem_channels=8,
            base_channels=8,
            out_indices=(3, ),
            strides=(1, 2, 1, 1),
            dilations=(1, 1, 2, 4),
            norm_cfg=norm),
        decode_head=dict(
            type='FCNHead',
            in_channels=64,
            in_index=0,
            channels=8,
            num_convs=1,
            concat_input=False,
            dropout_ratio=0,
            num_classes=NUM_CLASSES,
            norm_cfg=norm,
            align_corners=False,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)))


def _model(tiny_clip, guidance=(), **semi_train_cfg):
    if guidance is not None:
        guidance = dict(
            dict(
                model=tiny_clip,
                vocabulary=VOCAB,
                templates='a photo of a {}.',
                cache_dir=None,
                decay_iters=10), **dict(guidance))
    model = MODELS.build(
        dict(
            type='SemiEncoderDecoder',
            segmentor=_segmentor(),
            semi_train_cfg=dict(semi_train_cfg, dense_guidance=guidance)))
    model.train()
    return model


def _samples(n, size=32):
    return [
        SegDataSample(
            metainfo=dict(
                img_shape=(size, size),
                pad_shape=(size, size),
                ori_shape=(size, size))) for _ in range(n)
    ]


def _batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    weak = torch.randn(2, 3, 32, 32, generator=g)
    sup = _samples(2)
    for s in sup:
        s.gt_sem_seg = PixelData(
            data=torch.randint(0, NUM_CLASSES, (1, 32, 32), generator=g))
    inputs = dict(
        sup=torch.randn(2, 3, 32, 32, generator=g),
        unsup_weak=weak,
        unsup_strong=weak + 0.1 * torch.randn(2, 3, 32, 32, generator=g))
    return inputs, dict(
        sup=sup, unsup_weak=_samples(2), unsup_strong=_samples(2))


def test_guidance_labels_are_cutmixed_with_the_pseudo_label_boxes(
        tiny_clip, monkeypatch):
    model = _model(tiny_clip, cutmix_prob=1.0, threshold=0.0)
    calls, cutmix = [], semi_encoder_decoder.cutmix

    def recording_cutmix(images, targets, prob):
        out = cutmix(images, targets, prob)
        calls.append((targets, out))
        return out

    monkeypatch.setattr(semi_encoder_decoder, 'cutmix', recording_cutmix)
    model.set_train_iter(5)  # weight 0.1 * (1 - 5 / 10)
    inputs, samples = _batch()
    losses = model.loss(inputs, samples)

    (masked, _, guide), (strong, mixed, masks) = calls[0]
    expected = model.dense_guidance.labels(inputs['unsup_weak'])
    assert torch.equal(guide, expected)  # labels of the teacher's view
    assert len(set(expected.unique().tolist()) - {255}) >= 2
    partner = torch.tensor([1, 0])  # the only partner in a batch of 2
    mixed_guide = torch.where(masks, expected[partner], expected)
    assert not torch.equal(mixed_guide, expected)  # boxes moved labels
    assert torch.equal(mixed[2], mixed_guide)  # same boxes as ...
    assert torch.equal(mixed[0], torch.where(masks, masked[partner],
                                             masked))  # ... pseudo labels
    # L_mc by hand on the student's logits of the mixed strong view (BN
    # normalises with batch statistics in train mode: the same logits)
    student = model.student
    with torch.no_grad():
        logits = F.interpolate(
            student.decode_head.forward(student.extract_feat(strong)),
            size=(32, 32),
            mode='bilinear',
            align_corners=False)
        ce = F.cross_entropy(
            logits, mixed_guide, ignore_index=255, reduction='sum')
    assert torch.allclose(
        losses['unsup.loss_mc'], 0.05 * ce / mixed_guide.numel(), atol=1e-5)


def test_gradients_reach_the_student_but_not_the_clip(tiny_clip):
    model = _model(tiny_clip, cutmix_prob=0.0)
    clip = model.dense_guidance.visual
    losses = model.loss(*_batch())
    assert losses['unsup.loss_mc'] > 0
    losses['unsup.loss_mc'].backward()
    grad = model.student.decode_head.conv_seg.weight.grad
    assert grad is not None and grad.abs().sum() > 0
    assert all(p.grad is None for p in model.teacher.parameters())
    assert all(p.grad is None and not p.requires_grad
               for p in clip.parameters())
    assert not clip.training
    # not a sub-module: not optimised, not in checkpoints
    clip_params = {id(p) for p in clip.parameters()}
    assert not clip_params & {id(p) for p in model.parameters()}
    assert not any('visual' in k for k in model.state_dict())


def test_weight_decays_to_zero_and_then_skips_the_clip(tiny_clip, monkeypatch):
    model = _model(tiny_clip, guidance=dict(weight=0.2, decay_iters=None))
    with pytest.raises(ConfigError, match='dense_guidance.decay_iters'):
        model.current_guidance_weight
    # SemiMeanTeacherHook tells the model the run's length
    runner = SimpleNamespace(model=model, iter=0, max_iters=40)
    SemiMeanTeacherHook().before_train(runner)
    weights = []
    for t in (0, 20, 40, 50):
        model.set_train_iter(t)
        weights.append(model.current_guidance_weight)
    assert weights == pytest.approx([0.2, 0.1, 0.0, 0.0])

    def no_clip(*args, **kwargs):
        raise AssertionError('the CLIP ran at weight 0')

    monkeypatch.setattr(model.dense_guidance, 'labels', no_clip)
    losses = model.loss(*_batch())
    assert losses['unsup.loss_mc'] == 0
    assert 'unsup.decode.loss_ce' in losses


def test_off_by_default_and_bad_keys_are_named(tiny_clip):
    model = _model(tiny_clip, guidance=None)
    assert model.dense_guidance is None
    assert not any('loss_mc' in k for k in model.loss(*_batch()))
    with pytest.raises(
            ConfigError, match=r'semi_train_cfg\.dense_guidance\.wieght'):
        _model(tiny_clip, guidance=dict(wieght=0.1))
    with pytest.raises(
            ConfigError, match=r'semi_train_cfg\.dense_guidance\.threshold'):
        _model(tiny_clip, guidance=dict(threshold=95))
    with pytest.raises(
            ConfigError, match=r'semi_train_cfg\.dense_guidance\.vocabulary'):
        _model(tiny_clip, guidance=dict(vocabulary='camvid'))
