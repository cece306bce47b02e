import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_viladiff.models.utils import cutmix
from mmseg_viladiff.utils import ConfigError

NUM_CLASSES = 4


def _segmentor():
    norm = dict(type='BN', requires_grad=True)
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[0.] * 3,
            std=[1.] * 3,
            size=(32, 32)),
        backbone=dict(
            type='EfficientNetLite0', out_indices=(1, 2, 4, 6), norm_cfg=norm),
        decode_head=dict(
            type='FCNHead',
            in_channels=320,
            in_index=3,
            channels=16,
            num_convs=1,
            concat_input=False,
            dropout_ratio=0,
            num_classes=NUM_CLASSES,
            norm_cfg=norm,
            align_corners=False,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)))


def _model(**semi_train_cfg):
    model = MODELS.build(
        dict(
            type='SemiEncoderDecoder',
            segmentor=_segmentor(),
            semi_train_cfg=semi_train_cfg))
    model.train()
    return model


def _samples(n, size=32, labels=None, img_shape=None):
    out = []
    for i in range(n):
        s = SegDataSample(
            metainfo=dict(
                img_shape=img_shape or (size, size),
                pad_shape=(size, size),
                ori_shape=(size, size)))
        if labels is not None:
            s.gt_sem_seg = PixelData(data=labels[i][None])
        out.append(s)
    return out


def _batch(seed=0, gt_unsup=None):
    g = torch.Generator().manual_seed(seed)
    sup_labels = torch.randint(0, NUM_CLASSES, (2, 32, 32), generator=g)
    weak = torch.rand(2, 3, 32, 32, generator=g)
    inputs = dict(
        sup=torch.rand(2, 3, 32, 32, generator=g),
        unsup_weak=weak,
        unsup_strong=weak + 0.1)
    samples = dict(
        sup=_samples(2, labels=sup_labels),
        unsup_weak=_samples(2, labels=gt_unsup),
        unsup_strong=_samples(2, labels=gt_unsup))
    return inputs, samples


def test_loss_keys_and_weights():
    torch.manual_seed(0)
    model = _model(threshold=0.0, cutmix_prob=0.0, unsup_weight=2.0)
    inputs, samples = _batch()
    losses = model.loss(inputs, samples)
    assert {'sup.decode.loss_ce', 'unsup.decode.loss_ce',
            'pseudo_conf_ratio'} <= set(losses)
    assert model.current_unsup_weight == 2.0  # no ramp-up configured
    assert losses['pseudo_conf_ratio'].item() == 1.0  # threshold 0
    # unsup loss = 2 x the student's loss on the teacher's argmax labels
    with torch.no_grad():
        _, labels, _ = model.get_pseudo_labels(inputs['unsup_weak'],
                                               samples['unsup_weak'])
        torch.manual_seed(0)
        ref = model.student.loss(
            inputs['unsup_strong'],
            model._with_labels(samples['unsup_strong'], labels))
    assert torch.allclose(
        losses['unsup.decode.loss_ce'], 2 * ref['decode.loss_ce'], atol=1e-5)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert model.student.decode_head.conv_seg.weight.grad.abs().sum() > 0


def test_threshold_one_masks_every_pixel_and_padding_is_ignored():
    model = _model(threshold=1.0, cutmix_prob=0.0)
    inputs, samples = _batch()
    losses = model.loss(inputs, samples)
    assert losses['pseudo_conf_ratio'].item() == 0.0
    assert losses['unsup.decode.loss_ce'].item() == 0.0
    # padded pixels (outside img_shape) never become pseudo labels
    samples['unsup_weak'] = _samples(2, img_shape=(20, 24))
    _, labels, conf = model.get_pseudo_labels(inputs['unsup_weak'],
                                              samples['unsup_weak'])
    assert (labels[:, 20:] == 255).all() and (labels[:, :, 24:] == 255).all()
    assert (labels[:, :20, :24] != 255).all()
    assert (conf[:, 20:] == 0).all()


def test_diagnostics_never_change_the_loss():
    gt_true = torch.randint(0, NUM_CLASSES, (2, 32, 32))
    gt_other = (gt_true + 1) % NUM_CLASSES
    results = []
    for gt in (gt_true, gt_other):
        torch.manual_seed(0)  # same weights, same CutMix boxes
        model = _model(threshold=0.2, cutmix_prob=0.5, diagnostics=True)
        inputs, samples = _batch(gt_unsup=gt)
        results.append(model.loss(inputs, samples))
    a, b = results
    for key in a:
        if 'loss' in key or key == 'pseudo_conf_ratio':
            assert torch.equal(a[key], b[key]), key
    assert a['pseudo_acc'] + b['pseudo_acc'] <= 1.0 + 1e-6
    assert not torch.equal(a['pseudo_acc'], b['pseudo_acc'])
    # without the switch nothing is measured even if labels are present
    model = _model(threshold=0.2)
    inputs, samples = _batch(gt_unsup=gt_true)
    assert 'pseudo_acc' not in model.loss(inputs, samples)


def test_class_adaptive_threshold_scales_with_class_confidence():
    model = _model(threshold=0.9, threshold_mode='class_adaptive')
    model.class_confidence.copy_(torch.tensor([0.8, 0.4, 0.2, 0.2]))
    model.eval()  # no EMA update of the class confidence
    labels = torch.tensor([[[0, 1], [2, 255]]])
    tau = model.thresholds(torch.rand(1, 4, 2, 2), labels)
    assert torch.allclose(tau[0, 0], torch.tensor([0.9, 0.45]))
    assert torch.isclose(tau[0, 1, 0], torch.tensor(0.225))


def _rare_class_batch():
    """30 pixels of class 0 at confidence 0.99, 2 of class 1 at 0.7, none
    of classes 2 and 3: probs (1, 4, 4, 8), labels (1, 4, 8)."""
    probs = torch.tensor([0.99, 0.01 / 3, 0.01 / 3, 0.01 / 3])
    probs = probs.view(1, 4, 1, 1).repeat(1, 1, 4, 8)
    probs[0, :, 0, :2] = torch.tensor([0.1, 0.7, 0.1, 0.1])[:, None]
    confidence, labels = probs.max(dim=1)
    return probs, labels, confidence


def test_class_percentile_threshold_of_a_rare_class_is_its_confidence():
    probs, labels, confidence = _rare_class_batch()
    model = _model(
        threshold=0.95,
        threshold_mode='class_percentile',
        class_momentum=0.0,
        threshold_floor=0.6)
    assert torch.equal(model.class_threshold, torch.full((4, ), 0.95))
    model.class_threshold[3] = 0.8  # a previous value, kept (no pixel)
    tau = model.thresholds(probs, labels, confidence)
    assert tau.shape == labels.shape
    assert torch.allclose(tau[0, 1:], torch.tensor(0.95))  # class 0
    assert 0.69 <= tau[0, 0, 0].item() <= 0.7  # class 1: not 0.95
    assert 0.69 <= model.class_threshold[1].item() <= 0.7
    assert model.class_threshold[2].item() == pytest.approx(0.95)
    assert model.class_threshold[3].item() == pytest.approx(0.8)
    # the rare class's pixels pass, as do the others
    assert (confidence >= tau).all()
    # the old mode gives the rare class a degenerate threshold instead
    old = _model(threshold=0.95, threshold_mode='class_adaptive',
                 class_momentum=0.0)
    tau_old = old.thresholds(probs, labels)
    p = probs.mean(dim=(0, 2, 3))  # (K,)
    assert tau_old[0, 0, 0].item() == pytest.approx(0.95 * p[1] / p[0])
    assert tau_old[0, 0, 0].item() < 0.05


def test_class_percentile_threshold_ema_and_eval_mode():
    probs, labels, confidence = _rare_class_batch()
    model = _model(
        threshold_mode='class_percentile',
        class_momentum=0.9,
        class_percentile=0.5)
    model.thresholds(probs, labels, confidence)
    # 0.9 * 0.95 + 0.1 * (median in [0.69, 0.70])
    assert 0.924 - 1e-6 <= model.class_threshold[1].item() <= 0.925 + 1e-6
    model.eval()  # no update outside training
    before = model.class_threshold.clone()
    model.thresholds(probs, labels, confidence)
    assert torch.equal(model.class_threshold, before)


@pytest.mark.parametrize('mode, buffer', [('class_adaptive',
                                           'class_confidence'),
                                          ('class_percentile',
                                           'class_threshold')])
def test_all_reduce_runs_once_per_step_even_without_valid_pixels(
        mode, buffer, monkeypatch):
    """A rank without a valid pixel must still join the collective, else
    the other ranks wait for it forever."""
    import mmseg_viladiff.models.segmentors.semi_encoder_decoder as module
    calls = []

    def counting_all_reduce(data, op='sum', group=None):
        calls.append((data.shape, op))  # one process: nothing to reduce

    monkeypatch.setattr(module, 'all_reduce', counting_all_reduce)
    model = _model(threshold_mode=mode, class_momentum=0.0, cutmix_prob=0.)
    inputs, samples = _batch()
    samples['unsup_weak'] = _samples(2, img_shape=(0, 0))  # all padding
    before = getattr(model, buffer).clone()
    losses = model.loss(inputs, samples)
    assert len(calls) == 1 and calls[0][1] == 'sum'
    assert torch.equal(getattr(model, buffer), before)  # nothing seen
    assert losses['pseudo_conf_ratio'].item() == 0.0
    inputs, samples = _batch()  # valid pixels: still exactly one call
    model.loss(inputs, samples)
    assert len(calls) == 2
    assert not torch.equal(getattr(model, buffer), before)


def _bn_buffers(module):
    return {
        k: v.clone()
        for k, v in module.state_dict().items()
        if 'running' in k or 'num_batches_tracked' in k
    }


@pytest.mark.parametrize('unsup_bn_stats', [True, False])
def test_unsup_forward_updates_bn_stats_only_when_asked(unsup_bn_stats):
    model = _model(unsup_bn_stats=unsup_bn_stats, cutmix_prob=0.)
    snapshots = []
    student_loss = model.student.loss

    def recording_loss(*args, **kwargs):
        before = _bn_buffers(model.student)
        out = student_loss(*args, **kwargs)
        snapshots.append((before, _bn_buffers(model.student)))
        return out

    model.student.loss = recording_loss
    model.loss(*_batch())
    (sup_before, sup_after), (unsup_before, unsup_after) = snapshots
    bns = [k for k in sup_before if k.endswith('num_batches_tracked')]
    assert len(bns) > 10
    for k in bns:  # the labeled forward always counts
        assert sup_after[k] == sup_before[k] + 1
    changed = [k for k in unsup_before
               if not torch.equal(unsup_before[k], unsup_after[k])]
    if unsup_bn_stats:
        assert len(changed) == len(unsup_before)  # mean, var and count
    else:
        assert changed == []
    assert all(m.track_running_stats for m in model.student.modules()
               if isinstance(m, torch.nn.BatchNorm2d))


def test_bn_tracking_restored_when_the_unsup_forward_fails():
    model = _model(unsup_bn_stats=False)
    bns = [
        m for m in model.student.modules()
        if isinstance(m, torch.nn.BatchNorm2d)
    ]
    student_loss = model.student.loss
    calls = []

    def failing_loss(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the unsupervised forward
            assert not any(m.track_running_stats for m in bns)
            raise RuntimeError('boom')
        return student_loss(*args, **kwargs)

    model.student.loss = failing_loss
    with pytest.raises(RuntimeError, match='boom'):
        model.loss(*_batch())
    assert len(calls) == 2
    assert bns and all(m.track_running_stats for m in bns)


def test_cutmix_moves_images_and_labels_together():
    g = torch.Generator().manual_seed(3)
    images = torch.arange(4.).view(4, 1, 1, 1).expand(4, 3, 16, 16).clone()
    labels = torch.arange(4).view(4, 1, 1).expand(4, 16, 16).clone()
    mixed, (mixed_labels, ), masks = cutmix(images, (labels, ), 1.0, g)
    assert masks.any()
    # wherever a pixel came from sample j, its label is j's label too
    assert torch.equal(mixed[:, 0].long(), mixed_labels)
    for i in range(4):  # never pasted onto itself
        assert (mixed_labels[i] != i).any()
    for i in range(4):  # never pasted onto itself
        assert (mixed_labels[i] != i).any()
    unmixed, (same, ), m0 = cutmix(images, (labels, ), 0.0, g)
    assert not m0.any() and torch.equal(unmixed, images)


def test_plain_checkpoint_loads_into_student_and_teacher():
    plain = MODELS.build(_segmentor())
    model = _model()
    missing, unexpected = model.load_state_dict(
        plain.state_dict(), strict=False)
    assert not unexpected
    assert missing == ['class_confidence']
    for name, value in plain.state_dict().items():
        assert torch.equal(model.student.state_dict()[name], value)
        assert torch.equal(model.teacher.state_dict()[name], value)


def test_predict_on_switches_model():
    model = _model()
    with torch.no_grad():
        model.student.decode_head.conv_seg.bias.fill_(5.)
        model.teacher.decode_head.conv_seg.bias.zero_()
    model.eval()
    x = torch.rand(1, 3, 32, 32)
    assert model.predictor is model.teacher
    out_t = model._forward(x)
    model.semi_test_cfg['predict_on'] = 'student'
    out_s = model._forward(x)
    assert torch.allclose(out_s - out_t, torch.full_like(out_s, 5.), atol=1e-4)


@pytest.mark.parametrize('cfg, key', [
    (dict(threshold=1.5), 'semi_train_cfg.threshold'),
    (dict(cutmix_prob=-0.1), 'semi_train_cfg.cutmix_prob'),
    (dict(teacher_branch='sup'), 'semi_train_cfg.teacher_branch'),
    (dict(thresh=0.9), 'thresh'),
    (dict(threshold_mode='median'), 'semi_train_cfg.threshold_mode'),
    (dict(class_percentile=1.5), 'semi_train_cfg.class_percentile'),
    (dict(threshold_floor=-0.1), 'semi_train_cfg.threshold_floor'),
    (dict(threshold_mode='class_percentile', threshold=0.5,
          threshold_floor=0.6), 'semi_train_cfg.threshold_floor'),
    (dict(unsup_bn_stats='no'), 'semi_train_cfg.unsup_bn_stats'),
    (dict(unsup_class_weight=0), 'semi_train_cfg.unsup_class_weight'),
    (dict(refined_confidence='calibrated'),
     'semi_train_cfg.refined_confidence'),
    (dict(refine_min_confidence=2), 'semi_train_cfg.refine_min_confidence'),
])
def test_bad_semi_train_cfg_names_the_key(cfg, key):
    with pytest.raises(ConfigError, match=key):
        _model(**cfg)


@pytest.mark.parametrize('key, value', [('pretrained', 'r50.pth'),
                                        ('train_cfg', dict())])
def test_segmentor_keys_on_the_wrapper_are_an_error(key, value):
    """``init_model`` sets both to None (accepted); a value belongs on the
    segmentor."""
    cfg = dict(type='SemiEncoderDecoder', segmentor=_segmentor())
    MODELS.build(dict(cfg, pretrained=None, train_cfg=None))
    with pytest.raises(
            ConfigError, match=f'set it on model.segmentor.*'
            f'model.{key}='):
        MODELS.build(dict(cfg, **{key: value}))


def _cascade_segmentor(steps=2):
    seg = _segmentor()
    norm = dict(type='BN', requires_grad=True)
    seg.update(
        type='CascadeEncoderDecoder',
        num_stages=2,
        decode_head=[
            seg['decode_head'],
            dict(
                type='EdgeAwareMixDiffusionHead',
                in_channels=24,
                in_index=0,
                channels=8,
                num_classes=NUM_CLASSES,
                norm_cfg=norm,
                num_timesteps=10,
                num_inference_steps=steps)
        ])
    return seg


def test_refined_pseudo_labels_come_from_the_cascade():
    with pytest.raises(ConfigError, match='refine_pseudo_labels'):
        _model(refine_pseudo_labels=True)
    model = MODELS.build(
        dict(
            type='SemiEncoderDecoder',
            segmentor=_cascade_segmentor(),
            semi_train_cfg=dict(
                refine_pseudo_labels=True, threshold=0., diagnostics=True)))
    model.train()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        refined = model.teacher_logits(x)
        first = model.teacher_logits(x, refined=False)
        full = model.teacher._forward(x)
    assert refined.shape == first.shape == (2, NUM_CLASSES, 32, 32)
    assert not torch.allclose(refined, first)
    # refined pseudo labels = the cascade's own output, resized
    assert torch.allclose(
        refined,
        torch.nn.functional.interpolate(full, size=(32, 32), mode='bilinear'),
        atol=1e-5)
    inputs, samples = _batch(
        gt_unsup=torch.randint(0, NUM_CLASSES, (2, 32, 32)))
    losses = model.loss(inputs, samples)
    assert {'pseudo_miou', 'first_pseudo_miou',
            'unsup.decode_1.loss_ce'} <= set(losses)
    # refined_confidence='first': the first head's confidence, the refined
    # class only where the refined confidence reaches refine_min_confidence
    p_first, p_refined = first.softmax(1), refined.softmax(1)
    # the median refined confidence as the bar: both cases occur
    bar = float(p_refined.max(1)[0].median())
    model.semi_train_cfg.update(
        refined_confidence='first', refine_min_confidence=bar)
    with torch.no_grad():
        _, labels, conf = model.get_pseudo_labels(x, _samples(2))
    assert torch.allclose(conf, p_first.max(1)[0])
    sure = p_refined.max(1)[0] >= bar
    assert 0 < sure.float().mean() < 1  # both cases occur
    assert torch.equal(labels[sure], p_refined.argmax(1)[sure])
    assert torch.equal(labels[~sure], p_first.argmax(1)[~sure])
    # with K = 0 the refiner returns the first prediction unchanged
    model.teacher.decode_head[1].num_inference_steps = 0
    with torch.no_grad():
        assert torch.equal(
            model.teacher_logits(x), model.teacher_logits(x, refined=False))


def test_refinement_starts_at_refine_start_iter():
    model = MODELS.build(
        dict(
            type='SemiEncoderDecoder',
            segmentor=_cascade_segmentor(),
            semi_train_cfg=dict(
                refine_pseudo_labels=True, refine_start_iter=5)))
    model.train()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        first = model.teacher_logits(x, refined=False).softmax(1)
        refined = model.teacher_logits(x, refined=True).softmax(1)
        model.set_train_iter(4)
        probs_before, _, _ = model.get_pseudo_labels(x, _samples(2))
        model.set_train_iter(5)
        probs_after, _, _ = model.get_pseudo_labels(x, _samples(2))
    assert model.refining
    assert torch.allclose(probs_before, first, atol=1e-6)
    assert torch.allclose(probs_after, refined, atol=1e-6)
    assert not torch.allclose(probs_before, probs_after)
    with pytest.raises(ConfigError, match='refine_start_iter'):
        _model(refine_start_iter=-1)


def test_plain_checkpoint_loads_into_the_first_head_of_a_cascade():
    """A supervised burn-in model (one decode head) under a refining
    cascade: backbone and first head load, the refining head starts
    fresh."""
    plain = MODELS.build(_segmentor())
    model = MODELS.build(
        dict(
            type='SemiEncoderDecoder',
            segmentor=_cascade_segmentor(),
            semi_train_cfg=dict(refine_pseudo_labels=True)))
    fresh = {k: v.clone() for k, v in model.student.state_dict().items()}
    missing, unexpected = model.load_state_dict(
        plain.state_dict(), strict=False)
    assert not unexpected
    assert missing and all(
        k.startswith(('student.decode_head.1.', 'teacher.decode_head.1.'))
        or k == 'class_confidence' for k in missing)
    for name, value in plain.state_dict().items():
        own = name.replace('decode_head.', 'decode_head.0.', 1)
        for m in (model.student, model.teacher):
            assert torch.equal(m.state_dict()[own], value)
    for name, value in model.student.state_dict().items():
        if name.startswith('decode_head.1.'):
            assert torch.equal(value, fresh[name])
    # a semi checkpoint of the same cascade still loads key for key
    again = MODELS.build(
        dict(
            type='SemiEncoderDecoder',
            segmentor=_cascade_segmentor(),
            semi_train_cfg=dict(refine_pseudo_labels=True)))
    assert not again.load_state_dict(model.state_dict(), strict=False)[1]


@pytest.mark.parametrize('unsup_class_weight', [True, False])
def test_unsup_loss_class_weights_only_when_asked(unsup_class_weight):
    model = _model(unsup_class_weight=unsup_class_weight, cutmix_prob=0.)
    weight = [1.0, 8.0, 1.0, 1.0]
    for student in (model.student, model.teacher):
        student.decode_head.loss_decode = MODELS.build(
            dict(type='ClassBalancedCrossEntropyLoss', class_weight=weight))
    seen = []
    student_loss = model.student.loss

    def recording_loss(*args, **kwargs):
        w = model.student.decode_head.loss_decode.class_weight
        seen.append(None if w is None else w.tolist())
        return student_loss(*args, **kwargs)

    model.student.loss = recording_loss
    model.loss(*_batch())
    assert seen == [weight, weight if unsup_class_weight else None]
    assert model.student.decode_head.loss_decode.class_weight.tolist() == \
        weight


def test_plain_checkpoint_loads_into_a_bare_cascade():
    """The refiner's supervised phase: a plain checkpoint (one decode head)
    loads into the first head of a RefineCascadeEncoderDecoder outside the
    mean teacher; the refining head keeps its own weights."""
    bare = dict(_cascade_segmentor(), type='RefineCascadeEncoderDecoder')
    plain = MODELS.build(_segmentor())
    cascade = MODELS.build(bare)
    fresh = {k: v.clone() for k, v in cascade.state_dict().items()}
    missing, unexpected = cascade.load_state_dict(
        plain.state_dict(), strict=False)
    assert not unexpected
    assert missing and all(k.startswith('decode_head.1.') for k in missing)
    for name, value in plain.state_dict().items():
        own = name.replace('decode_head.', 'decode_head.0.', 1)
        assert torch.equal(cascade.state_dict()[own], value)
    for name, value in cascade.state_dict().items():
        if name.startswith('decode_head.1.'):
            assert torch.equal(value, fresh[name])
    # its own checkpoint still loads key for key
    again = MODELS.build(bare)
    again.load_state_dict(cascade.state_dict())
    for name, value in cascade.state_dict().items():
        assert torch.equal(again.state_dict()[name], value)
