"""UniMatch's perturbations in SemiEncoderDecoder: the second strong view,
the feature-perturbation branch and their loss weights."""
import pytest
import torch
from mmengine.config import ConfigDict
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.registry import MODELS
# the tiny segmentor, models and batches of the mean-teacher tests
from test_semi_encoder_decoder import (NUM_CLASSES, _batch,
                                       _cascade_segmentor, _model, _samples,
                                       _segmentor)

import mmseg_viladiff.models.segmentors.semi_encoder_decoder as module
from mmseg_viladiff.models.utils import sigmoid_rampup
from mmseg_viladiff.utils import ConfigError

#: UniMatch's (L_sup + 0.25 L_s1 + 0.25 L_s2 + 0.5 L_fp) / 2
UNIMATCH = dict(
    sup_weight=0.5, unsup_weight=0.25, strong_views=2, fp_weight=0.25)


def _unimatch_batch(seed=0, img_shape=None):
    """``_batch`` plus a second strong view (different pixels)."""
    inputs, samples = _batch(seed)
    inputs['unsup_strong2'] = inputs['unsup_weak'].flip(1) * 0.9
    samples['unsup_strong2'] = _samples(2)
    if img_shape is not None:  # all-padding unlabeled views
        for key in ('unsup_weak', 'unsup_strong', 'unsup_strong2'):
            samples[key] = _samples(2, img_shape=img_shape)
    return inputs, samples


def _record_student_losses(model):
    """Record every ``student.loss`` call: (inputs, samples, raw losses)."""
    calls = []
    student_loss = model.student.loss

    def recording_loss(inputs, samples):
        out = student_loss(inputs, samples)
        calls.append((inputs, samples, out))
        return out

    model.student.loss = recording_loss
    return calls


def _record_fp_loss(model):
    calls = []
    fp_loss = model.fp_loss

    def recording(*args):
        out = fp_loss(*args)
        calls.append(out)
        return out

    model.fp_loss = recording
    return calls


@pytest.mark.parametrize('rampup_iters, it', [(0, 0), (10, 3)])
def test_total_loss_is_unimatch_weighting(rampup_iters, it):
    torch.manual_seed(0)
    model = _model(
        threshold=0.2, cutmix_prob=0.5, rampup_iters=rampup_iters, **UNIMATCH)
    model.set_train_iter(it)
    calls = _record_student_losses(model)
    fp_calls = _record_fp_loss(model)
    losses = model.loss(*_unimatch_batch())
    assert {
        'sup.decode.loss_ce', 'unsup.decode.loss_ce', 'unsup2.decode.loss_ce',
        'fp.decode.loss_ce'
    } <= set(losses)
    total, _ = model.parse_losses(losses)  # what the optimiser gets
    sup, s1, s2 = (out['decode.loss_ce'] for _, _, out in calls)
    fp = fp_calls[0]['decode.loss_ce']
    assert len({round(v.item(), 5) for v in (sup, s1, s2, fp)}) == 4
    ramp = sigmoid_rampup(it, rampup_iters)
    expected = 0.5 * sup + ramp * (0.125 * s1 + 0.125 * s2 + 0.25 * fp)
    assert torch.allclose(total, expected, rtol=1e-6)
    if ramp == 1:  # UniMatch's own formula
        unimatch = (sup + 0.25 * s1 + 0.25 * s2 + 0.5 * fp) / 2
        assert torch.allclose(total, unimatch, rtol=1e-6)
    # accuracies are logged, never optimised
    assert 'unsup2.decode.acc_seg' in losses
    assert torch.equal(losses['unsup2.decode.acc_seg'],
                       calls[2][2]['decode.acc_seg'])


def test_each_strong_view_gets_its_own_cutmix(monkeypatch):
    cutmixes = []
    real_cutmix = module.cutmix

    def recording_cutmix(images, targets, prob, generator=None):
        out = real_cutmix(images, targets, prob, generator)
        cutmixes.append((images, targets, out))
        return out

    monkeypatch.setattr(module, 'cutmix', recording_cutmix)
    torch.manual_seed(0)
    model = _model(threshold=0.0, cutmix_prob=1.0, **UNIMATCH)
    # pseudo label = 2 x the sample's index, confidence 1
    own = torch.tensor([0, 2]).view(2, 1, 1).expand(2, 32, 32)
    model.get_pseudo_labels = lambda x, s: (
        torch.ones(2, NUM_CLASSES, 32, 32), own.clone(), torch.ones(2, 32, 32))
    calls = _record_student_losses(model)
    inputs, samples = _unimatch_batch()
    model.loss(inputs, samples)
    assert len(cutmixes) == 2 and len(calls) == 3
    # targets: the pseudo labels and the source map (mix_captions)
    (img1, (t1, _), (mixed1, (lab1, _), box1)), \
        (img2, (t2, _), (mixed2, (lab2, _), box2)) = cutmixes
    assert img1 is inputs['unsup_strong'] and img2 is inputs['unsup_strong2']
    assert torch.equal(t1, own) and torch.equal(t2, own)
    assert box1.any() and box2.any() and not torch.equal(box1, box2)
    for lab, box in ((lab1, box1), (lab2, box2)):  # the partner's labels
        assert torch.equal(lab, torch.where(box, own.flip(0), own))
    # each view's loss reads its own mixed images and mixed labels
    for (x, s, _), mixed, lab in zip(calls[1:], (mixed1, mixed2),
                                     (lab1, lab2)):
        assert torch.equal(x, mixed)
        assert torch.equal(torch.stack([d.gt_sem_seg.data[0] for d in s]),
                           lab)
    assert not torch.equal(calls[1][0], calls[2][0])


def test_fp_branch_drops_features_of_the_weak_view(monkeypatch):
    drops = []
    real_dropout = module.feature_dropout

    def recording_dropout(feats, p, training):
        out = real_dropout(feats, p, training)
        drops.append((feats, p, training, out))
        return out

    monkeypatch.setattr(module, 'feature_dropout', recording_dropout)
    torch.manual_seed(0)
    model = _model(threshold=0.0, cutmix_prob=0.0, fp_weight=2.0)
    inputs, samples = _batch()
    losses = model.loss(inputs, samples)
    assert 'unsup2.decode.loss_ce' not in losses  # one strong view
    [(clean, p, training, dropped)] = drops
    assert p == 0.5 and training
    with torch.no_grad():
        ref = model.student.extract_feat(inputs['unsup_weak'])
    assert len(clean) == len(ref) == 4
    for c, r, d in zip(clean, ref, dropped):
        assert torch.allclose(c, r, atol=1e-5)  # the weak view's features
        dropped_channels = (d == 0).all(dim=(2, 3)).float().mean()
        if c.shape[1] >= 40:
            assert 0.3 < dropped_channels < 0.7
    # loss = fp_weight x the decode head's loss on the dropped features and
    # the (unmixed) pseudo labels of the weak view
    with torch.no_grad():
        _, labels, _ = model.get_pseudo_labels(inputs['unsup_weak'],
                                               samples['unsup_weak'])
        pseudo = model._with_labels(samples['unsup_weak'], labels)
        on_dropped = model.student._decode_head_forward_train(dropped, pseudo)
        on_clean = model.student._decode_head_forward_train(clean, pseudo)
    assert torch.allclose(losses['fp.decode.loss_ce'],
                          2 * on_dropped['decode.loss_ce'])
    assert not torch.allclose(on_dropped['decode.loss_ce'],
                              on_clean['decode.loss_ce'])


def test_fp_branch_trains_decode_head_and_backbone_not_teacher():
    torch.manual_seed(0)
    model = _model(threshold=0.0, cutmix_prob=0.0, fp_weight=1.0)
    losses = model.loss(*_batch())
    head = model.student.decode_head.conv_seg.weight
    stem = next(model.student.backbone.parameters())
    g_head, g_stem = torch.autograd.grad(losses['fp.decode.loss_ce'],
                                         [head, stem])
    assert g_head.abs().sum() > 0 and g_stem.abs().sum() > 0
    assert not any(p.requires_grad for p in model.teacher.parameters())


def _inference_model(**semi_train_cfg):
    return MODELS.build(
        dict(
            type='SemiEncoderDecoder',
            segmentor=dict(_segmentor(), test_cfg=ConfigDict(mode='whole')),
            semi_train_cfg=semi_train_cfg))


@pytest.mark.parametrize('predict_on', ['teacher', 'student'])
def test_perturbations_are_off_at_inference(predict_on):
    torch.manual_seed(0)
    plain = _inference_model()
    torch.manual_seed(1)
    perturbed = _inference_model(
        fp_weight=0.5, fp_dropout=0.9, strong_views=2)
    # nothing added to the state dict: checkpoints load either way
    assert perturbed.state_dict().keys() == plain.state_dict().keys()
    perturbed.load_state_dict(plain.state_dict())
    x = torch.rand(2, 3, 32, 32)
    for model in (plain, perturbed):
        model.semi_test_cfg['predict_on'] = predict_on
        model.eval()
    with torch.no_grad():
        assert torch.equal(plain._forward(x), perturbed._forward(x))
        preds = [m.predict(x, _samples(2)) for m in (plain, perturbed)]
    for a, b in zip(*preds):
        assert torch.equal(a.seg_logits.data, b.seg_logits.data)
    # and nothing hides in the student's own forward in training mode
    perturbed.train()
    with torch.no_grad():
        a = perturbed.student.extract_feat(x)
        b = perturbed.student.extract_feat(x)
    assert all(torch.equal(u, v) for u, v in zip(a, b))


def test_every_branch_runs_on_every_rank_whatever_the_pseudo_labels(
        monkeypatch):
    """DDP: a rank whose unlabeled views are all padding (no pseudo label)
    runs the same forwards (SyncBN collectives), the same one all_reduce
    and gives gradients to the same parameters as a rank with labels."""
    reduces = []
    monkeypatch.setattr(module, 'all_reduce',
                        lambda data, op='sum', group=None: reduces.append(op))
    runs = []
    for img_shape in (None, (0, 0)):
        torch.manual_seed(0)
        model = _model(
            threshold_mode='class_percentile', cutmix_prob=0.5, **UNIMATCH)
        forwards = []
        model.student.backbone.register_forward_hook(
            lambda *args: forwards.append(1))
        reduces.clear()
        losses = model.loss(*_unimatch_batch(img_shape=img_shape))
        model.parse_losses(losses)[0].backward()
        with_grad = {
            n
            for n, p in model.student.named_parameters() if p.grad is not None
        }
        runs.append((len(forwards), len(reduces), sorted(losses), with_grad))
    (n_full, r_full, keys_full, grads_full), (n_empty, r_empty, keys_empty,
                                              grads_empty) = runs
    assert n_full == n_empty == 4  # sup, two strong views, fp
    assert r_full == r_empty == 1
    assert keys_full == keys_empty
    assert grads_full == grads_empty and len(grads_full) > 10


def test_cascade_trains_every_head_on_the_perturbed_features():
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='SemiEncoderDecoder',
            segmentor=_cascade_segmentor(),
            semi_train_cfg=dict(threshold=0., **UNIMATCH)))
    model.train()
    losses = model.loss(*_unimatch_batch())
    for prefix in ('unsup', 'unsup2', 'fp'):
        assert {f'{prefix}.decode_0.loss_ce',
                f'{prefix}.decode_1.loss_ce'} <= set(losses), prefix


@pytest.mark.parametrize('cfg, key', [
    (dict(fp_wieght=0.5), 'fp_wieght'),
    (dict(strong_views=3), 'semi_train_cfg.strong_views'),
    (dict(strong_views=0), 'semi_train_cfg.strong_views'),
    (dict(strong_views=2.0), 'semi_train_cfg.strong_views'),
    (dict(strong_views=True), 'semi_train_cfg.strong_views'),
    (dict(fp_weight=-0.5), 'semi_train_cfg.fp_weight'),
    (dict(fp_dropout=1.0), 'semi_train_cfg.fp_dropout'),
    (dict(fp_dropout=-0.1), 'semi_train_cfg.fp_dropout'),
])
def test_bad_unimatch_key_names_it(cfg, key):
    with pytest.raises(ConfigError, match=key):
        _model(**cfg)


def test_second_strong_view_missing_from_the_batch_is_clear():
    model = _model(strong_views=2)
    with pytest.raises(ConfigError,
                       match=r"strong_views=2 .*\['unsup_strong2'\]"):
        model.loss(*_batch())


@MODELS.register_module(name='PlainSegmentorForUniMatchTest', force=True)
class _PlainSegmentor(BaseSegmentor):
    """A segmentor that is no EncoderDecoder (no extract_feat + heads)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.decode_head = torch.nn.Module()
        self.decode_head.num_classes = NUM_CLASSES

    def extract_feat(self, inputs):
        raise NotImplementedError()

    encode_decode = loss = predict = _forward = extract_feat


def test_fp_branch_needs_an_encoder_decoder():
    cfg = dict(type='SemiEncoderDecoder', segmentor=_segmentor())
    MODELS.build(dict(cfg, semi_train_cfg=dict(fp_weight=0.5)))
    plain = dict(
        type='PlainSegmentorForUniMatchTest',
        data_preprocessor=_segmentor()['data_preprocessor'])
    MODELS.build(dict(cfg, segmentor=plain))  # fine without the branch
    with pytest.raises(ConfigError, match='semi_train_cfg.fp_weight .*'
                       'PlainSegmentorForUniMatchTest'):
        MODELS.build(
            dict(cfg, segmentor=plain, semi_train_cfg=dict(fp_weight=0.5)))
