"""Cross-image distillation and DyCE inside SemiEncoderDecoder: the
features the distillation reads, no second backbone pass, config errors,
DyCE's updates and collectives per step."""
import pytest
import torch
from mmseg.registry import MODELS
from test_semi_encoder_decoder import NUM_CLASSES, _batch, _segmentor

import mmseg_viladiff.models.losses.dynamic_class_balanced_ce as dyce_module
from mmseg_viladiff.models.utils.feature_distill import MAX_RECORDS
from mmseg_viladiff.utils import ConfigError

DISTILL = [
    dict(type='RelationDistillLoss', loss_weight=2.0),
    dict(type='StyleDistillLoss', loss_weight=0.5)
]


def _model(segmentor=None, **semi_train_cfg):
    model = MODELS.build(
        dict(
            type='SemiEncoderDecoder',
            segmentor=segmentor or _segmentor(),
            semi_train_cfg=semi_train_cfg))
    model.train()
    return model


def _count_calls(module):
    calls = []
    module.register_forward_hook(lambda m, args, out: calls.append(args[0]))
    return calls


@pytest.mark.parametrize('level', [-1, 1])
def test_distill_losses_read_the_forwards_own_features(level):
    torch.manual_seed(0)
    model = _model(
        threshold=0.0,
        cutmix_prob=0.0,
        feature_distill=DISTILL,
        feature_distill_level=level)
    inputs, samples = _batch()
    calls = _count_calls(model.student.backbone)
    losses = model.loss(inputs, samples)
    # the labeled and the unlabeled forward only: no second pass
    assert len(calls) == 2
    assert calls[0] is inputs['sup']
    assert torch.equal(calls[1], inputs['unsup_strong'])  # no CutMix box
    assert {'distill.loss_relation', 'distill.loss_style'} <= set(losses)
    assert model.feature_distiller._records == []  # released
    # the same numbers from a fresh pass over the same batches (train-mode
    # BN normalises with batch statistics, so the features are equal)
    with torch.no_grad():
        feats_l = model.student.backbone(inputs['sup'])[level]
        feats_u = model.student.backbone(inputs['unsup_strong'])[level]
    relation, style = model.feature_distiller.losses
    torch.testing.assert_close(losses['distill.loss_relation'],
                               relation(feats_l, feats_u))
    torch.testing.assert_close(losses['distill.loss_style'],
                               style(feats_l, feats_u))
    assert losses['distill.loss_relation'].item() > 0
    # its gradient reaches the student's backbone, never the teacher
    model.student.zero_grad()
    losses['distill.loss_style'].backward()
    grads = [p.grad for p in model.student.backbone.parameters()]
    assert sum(g.abs().sum() for g in grads if g is not None) > 0
    assert model.student.decode_head.conv_seg.weight.grad is None
    assert all(p.grad is None for p in model.teacher.parameters())


def test_with_unimatch_both_strong_views_form_the_unlabeled_set():
    """strong_views=2 and the fp branch: U holds both strong views (the
    weak view of the fp branch is not part of it), still no extra pass."""
    torch.manual_seed(0)
    model = _model(
        threshold=0.0,
        cutmix_prob=0.0,
        strong_views=2,
        fp_weight=0.25,
        feature_distill=DISTILL)
    inputs, samples = _batch()
    inputs['unsup_strong2'] = inputs['unsup_weak'].flip(1) * 0.9
    samples['unsup_strong2'] = samples['unsup_strong']
    calls = _count_calls(model.student.backbone)
    losses = model.loss(inputs, samples)
    assert len(calls) == 4  # labeled, two strong views, fp (weak)
    assert calls[3] is inputs['unsup_weak']
    assert model.feature_distiller._warned is False
    with torch.no_grad():
        feats_l = model.student.backbone(inputs['sup'])[-1]
        feats_u = torch.cat([
            model.student.backbone(inputs[k])[-1]
            for k in ('unsup_strong', 'unsup_strong2')
        ])  # (4, C, h, w)
    relation, style = model.feature_distiller.losses
    torch.testing.assert_close(losses['distill.loss_relation'],
                               relation(feats_l, feats_u))
    torch.testing.assert_close(losses['distill.loss_style'],
                               style(feats_l, feats_u))


def test_cutmixed_strong_batch_is_the_unlabeled_set():
    torch.manual_seed(0)
    model = _model(threshold=0.0, cutmix_prob=1.0, feature_distill=DISTILL)
    inputs, samples = _batch()
    calls = _count_calls(model.student.backbone)
    model.loss(inputs, samples)
    assert len(calls) == 2
    assert not torch.equal(calls[1], inputs['unsup_strong'])  # mixed


def test_off_by_default_and_no_new_state():
    plain, distilled = _model(), _model(feature_distill=DISTILL)
    assert plain.feature_distiller is None
    assert not plain.student.backbone._forward_hooks
    assert 'distill.loss_relation' not in plain.loss(*_batch())
    # old checkpoints load: the distillation adds no parameter or buffer
    assert set(plain.state_dict()) == set(distilled.state_dict())


def test_uncaptured_batch_gets_one_extra_pass_with_frozen_bn():
    model = _model(feature_distill=DISTILL)
    images = torch.rand(2, 3, 32, 32)
    model.student.backbone(images)  # captured
    bn = next(m for m in model.student.backbone.modules()
              if isinstance(m, torch.nn.BatchNorm2d))
    count = bn.num_batches_tracked.clone()
    calls = _count_calls(model.student.backbone)
    other = torch.rand(2, 3, 32, 32)  # a forward the hook never saw
    losses = model.feature_distiller(model.student, images, other)
    assert len(calls) == 1 and calls[0] is other
    assert torch.equal(bn.num_batches_tracked, count)
    assert losses['distill.loss_style'].item() > 0


def test_records_are_bounded_and_skip_eval_and_no_grad():
    model = _model(feature_distill=DISTILL)
    x = torch.rand(2, 3, 32, 32)
    for _ in range(MAX_RECORDS + 3):
        model.student.backbone(x)
    assert len(model.feature_distiller._records) == MAX_RECORDS
    model.feature_distiller._records = []
    with torch.no_grad():
        model.student.backbone(x)
    model.eval()
    model.student.backbone(x)
    assert model.feature_distiller._records == []


@pytest.mark.parametrize('cfg, key', [
    (dict(feature_distill=dict(type='RelationDistillLoss')),
     'semi_train_cfg.feature_distill must be a list'),
    (dict(feature_distill=[dict(loss_weight=1.0)]),
     'semi_train_cfg.feature_distill must be a list'),
    (dict(feature_distill=[dict(type='NoSuchLoss')]),
     r'semi_train_cfg.feature_distill\[0\]'),
    (dict(feature_distill=DISTILL + [dict(type='StyleDistillLoss')]),
     'loss names'),
    (dict(feature_distill_level='last'),
     'semi_train_cfg.feature_distill_level'),
])
def test_bad_distill_cfg_names_the_key(cfg, key):
    with pytest.raises(ConfigError, match=key):
        _model(**cfg)


def test_level_beyond_the_backbone_outputs_names_the_key():
    model = _model(feature_distill=DISTILL, feature_distill_level=4)
    with pytest.raises(ConfigError,
                       match='feature_distill_level = 4.*returns 4'):
        model.loss(*_batch())


def _dyce_segmentor():
    seg = _segmentor()
    seg['decode_head']['loss_decode'] = dict(
        type='DynamicClassBalancedCELoss', num_classes=NUM_CLASSES)
    return seg


@pytest.mark.parametrize('unsup_class_weight, updates', [(True, 2),
                                                         (False, 1)])
def test_dyce_counts_pseudo_labels_only_when_weighting_them(
        unsup_class_weight, updates, monkeypatch):
    calls = []
    monkeypatch.setattr(dyce_module, 'all_reduce',
                        lambda data, op='sum', group=None: calls.append(op))
    model = _model(
        _dyce_segmentor(),
        threshold=0.0,
        cutmix_prob=0.0,
        unsup_class_weight=unsup_class_weight)
    loss = model.student.decode_head.loss_decode
    losses = model.loss(*_batch())
    assert {'sup.decode.loss_dyce', 'unsup.decode.loss_dyce'} <= set(losses)
    # one update and one collective per weighted forward, on every rank
    assert loss.num_updates.item() == updates
    assert calls == ['sum'] * updates
    assert loss.class_weighting is True  # restored after the unsup forward
    teacher_loss = model.teacher.decode_head.loss_decode
    assert teacher_loss.num_updates.item() == 0  # never computes a loss
    # the buffer is part of the model's state (checkpoints, resume)
    state = model.state_dict()
    assert torch.equal(state['student.decode_head.loss_decode.'
                             'class_frequency'], loss.class_frequency)
    assert 'student.decode_head.loss_decode.num_updates' in state


def test_dyce_on_pseudo_labels_without_a_valid_pixel_still_joins(
        monkeypatch):
    calls = []
    monkeypatch.setattr(dyce_module, 'all_reduce',
                        lambda data, op='sum', group=None: calls.append(op))
    model = _model(
        _dyce_segmentor(), threshold=1.0, cutmix_prob=0.0,
        unsup_class_weight=True)
    losses = model.loss(*_batch())
    assert losses['pseudo_conf_ratio'].item() == 0.0  # no pseudo label
    assert len(calls) == 2
    assert model.student.decode_head.loss_decode.num_updates.item() == 1
