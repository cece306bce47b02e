"""VLEncoderDecoder / VLCascadeEncoderDecoder inside SemiEncoderDecoder."""
import copy

import pytest
import torch
from helpers import plain_vl_segmentor, viladiff_model_cfg
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_viladiff.models import SemiEncoderDecoder, VLSegmentorMixin
from mmseg_viladiff.utils import ConfigError

CAPTIONS = ['a disc and a square', 'a triangle', '', 'a square']


@pytest.fixture(scope='module')
def model_cfg(tmp_path_factory):
    return viladiff_model_cfg(str(tmp_path_factory.mktemp('text_cache')))


def batch(n=4, size=64, labels=True):
    samples = []
    for i in range(n):
        s = SegDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                pad_shape=(size, size),
                caption=CAPTIONS[i % 4]))
        if labels:
            s.gt_sem_seg = PixelData(data=torch.randint(0, 4, (1, size, size)))
        samples.append(s)
    return torch.rand(n, 3, size, size), samples


def test_full_model_builds_with_text(model_cfg):
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(model_cfg))
    assert isinstance(model, SemiEncoderDecoder)
    assert isinstance(model.student, VLSegmentorMixin)
    # one frozen encoder for student and teacher, outside the state dict
    assert model.student.promptor.cache.encoder is \
        model.teacher.promptor.cache.encoder
    assert not any('encoder' in k for k in model.state_dict())


def test_student_loss_has_vl_terms(model_cfg):
    torch.manual_seed(0)
    student = MODELS.build(copy.deepcopy(model_cfg.segmentor)).train()
    losses = student.loss(*batch())
    assert {'loss_vl_align', 'loss_vl_distill'} <= set(losses)
    # at initialisation the text paths and the vision adapters are all the
    # identity (zero-initialised gates and output convs): nothing to distil
    assert losses['loss_vl_distill'].item() == 0


def test_distillation_trains_the_vision_path(model_cfg):
    """Once the fused features differ from the vision-only ones, the
    distillation loss trains the adapter: its zero-initialised output conv
    at once, the block before it after the output conv has moved."""
    torch.manual_seed(0)
    student = MODELS.build(copy.deepcopy(model_cfg.segmentor)).train()
    for attn in student.neck.caption_attn.values():
        # the caption path as after some training
        torch.nn.init.normal_(attn.out.weight)
    adapter = student.neck.vision_path['3']
    student.loss(*batch())['loss_vl_distill'].backward()
    assert adapter.out.weight.grad.abs().sum() > 0
    assert adapter.block.conv.weight.grad.abs().sum() == 0
    with torch.no_grad():
        adapter.out.weight.sub_(adapter.out.weight.grad)
    student.zero_grad()
    student.loss(*batch())['loss_vl_distill'].backward()
    assert adapter.block.conv.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('mode', ['caption', 'class', 'vision'])
def test_predict_in_every_mode(model_cfg, mode):
    torch.manual_seed(0)
    student = MODELS.build(copy.deepcopy(model_cfg.segmentor)).eval()
    student.neck.infer_mode = mode
    inputs, samples = batch(2, labels=False)
    with torch.no_grad():
        preds = student.predict(inputs, samples)
        tensor = student(inputs, samples, mode='tensor')
    assert preds[0].pred_sem_seg.data.shape == (1, 64, 64)
    assert tensor.shape == (2, 4, 16, 16)


def test_caption_mode_without_captions_is_clear(model_cfg):
    student = MODELS.build(copy.deepcopy(model_cfg.segmentor)).eval()
    student.neck.infer_mode = 'caption'
    with pytest.raises(ConfigError, match='captions'):
        student(torch.rand(1, 3, 64, 64), mode='tensor')


def test_teacher_reads_captions_for_pseudo_labels(model_cfg):
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(model_cfg))
    # give the caption path of the teacher a voice
    for attn in model.teacher.neck.caption_attn.values():
        torch.nn.init.normal_(attn.out.weight)
    inputs, samples = batch(2, labels=False)
    with torch.no_grad():
        with_text = model.teacher_logits(inputs, samples)
        other = [copy.deepcopy(s) for s in samples]
        for s in other:
            s.set_metainfo(dict(caption='something else entirely'))
        with_other = model.teacher_logits(inputs, other)
    assert not torch.allclose(with_text, with_other)


def test_mismatched_sizes_are_config_errors(model_cfg):
    cfg = copy.deepcopy(model_cfg.segmentor)
    cfg.neck.num_classes = 5
    with pytest.raises(ConfigError, match='neck.num_classes = 5'):
        MODELS.build(cfg)
    cfg = copy.deepcopy(model_cfg.segmentor)
    cfg.neck.text_dim = 512
    with pytest.raises(ConfigError, match='neck.text_dim = 512'):
        MODELS.build(cfg)
    cfg = copy.deepcopy(model_cfg.segmentor)
    cfg.neck = dict(
        type='FPN',
        in_channels=[24, 40, 112, 320],
        out_channels=32,
        num_outs=4)
    with pytest.raises(ConfigError, match='VLFusionNeck'):
        MODELS.build(cfg)


def _vision_loss_keys(losses):
    return [k for k in losses if k.startswith('vision.') and 'loss' in k]


def test_vision_task_loss_trains_the_head_on_vision_only_features(model_cfg):
    """The decode heads' loss on the vision-only pyramid reaches the heads
    and the vision adapters (on the path inference uses), never the text
    paths; weight 0 (the default) leaves it out."""
    cfg = copy.deepcopy(model_cfg.segmentor)
    assert MODELS.build(copy.deepcopy(cfg)).vision_task_weight == 0
    assert not _vision_loss_keys(
        MODELS.build(copy.deepcopy(cfg)).train().loss(*batch()))
    cfg.vision_task_weight = 1.0
    torch.manual_seed(0)
    student = MODELS.build(cfg).train()
    adapter = student.neck.vision_path['3']
    torch.nn.init.normal_(adapter.out.weight, std=0.1)  # as after training
    losses = student.loss(*batch())
    keys = _vision_loss_keys(losses)
    assert keys and all(k.startswith('vision.decode_') for k in keys)
    sum(losses[k] for k in keys).backward()
    head = student.decode_head[0]
    assert head.conv_seg.weight.grad.abs().sum() > 0
    assert adapter.out.weight.grad.abs().sum() > 0
    assert adapter.block.conv.weight.grad.abs().sum() > 0
    assert student.backbone.stem.conv.weight.grad.abs().sum() > 0
    for name, p in student.neck.named_parameters():
        if name.startswith(('caption_attn', 'class_path')):
            assert p.grad is None or p.grad.abs().sum() == 0, name


def test_vision_task_loss_is_the_head_loss_times_its_weight(model_cfg):
    losses = {}
    for weight in (1.0, 2.5):
        cfg = copy.deepcopy(model_cfg.segmentor)
        cfg.vision_task_weight = weight
        torch.manual_seed(0)
        student = MODELS.build(cfg).train()
        torch.manual_seed(1)
        losses[weight] = student.loss(*batch())
    for key in _vision_loss_keys(losses[1.0]):
        assert torch.allclose(losses[2.5][key], 2.5 * losses[1.0][key]), key
    with pytest.raises(ConfigError, match='vision_task_weight'):
        MODELS.build(dict(model_cfg.segmentor, vision_task_weight=-1))


def _semi_batch():
    inputs, sup = batch(2)
    weak, unsup = batch(2, labels=False)
    return (dict(sup=inputs, unsup_weak=weak, unsup_strong=weak + 0.1),
            dict(sup=sup, unsup_weak=unsup, unsup_strong=unsup))


@pytest.mark.parametrize('mode', ['union', 'own'])
def test_cutmixed_sample_reads_both_captions(model_cfg, mode):
    """With CutMix on every unlabeled sample (2 per batch: each pastes a
    box of the other), the student reads both captions, its own first."""
    cfg = copy.deepcopy(model_cfg)
    cfg.semi_train_cfg.update(cutmix_prob=1.0, mix_captions=mode)
    torch.manual_seed(0)
    model = MODELS.build(cfg).train()
    seen = []
    loss = model.student.loss

    def spy(inputs, samples):
        seen.append([s.metainfo['caption'] for s in samples])
        return loss(inputs, samples)

    model.student.loss = spy
    model.loss(*_semi_batch())
    assert seen[0] == ['a disc and a square', 'a triangle']  # sup
    if mode == 'union':
        assert seen[1] == [('a disc and a square', 'a triangle'),
                           ('a triangle', 'a disc and a square')]
    else:
        assert seen[1] == ['a disc and a square', 'a triangle']
    bad = copy.deepcopy(model_cfg)
    bad.semi_train_cfg.update(mix_captions='concat')
    with pytest.raises(ConfigError, match='mix_captions'):
        MODELS.build(bad)


def test_unimatch_branches_with_the_vl_cascade(model_cfg):
    """UniMatch's perturbations on the full model: the fp branch reads the
    weak view's captions and trains both cascade heads on the perturbed
    fused features; the second strong view gets the neck's losses too."""
    cfg = copy.deepcopy(model_cfg)
    cfg.semi_train_cfg.update(
        threshold=0.0, strong_views=2, fp_weight=0.25, cutmix_prob=0.5)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.train()
    sup, sup_samples = batch(2)
    weak, weak_samples = batch(2, labels=False)
    inputs = dict(sup=sup, unsup_weak=weak, unsup_strong=weak + 0.1,
                  unsup_strong2=weak - 0.1)
    samples = dict(sup=sup_samples, unsup_weak=weak_samples,
                   unsup_strong=weak_samples, unsup_strong2=weak_samples)
    metas_seen = []
    extract_feat = model.student.extract_feat

    def recording_extract_feat(x, metas=None, mode=None):
        metas_seen.append(metas)
        return extract_feat(x, metas, mode)

    model.student.extract_feat = recording_extract_feat
    losses = model.loss(inputs, samples)
    [metas] = metas_seen  # only the fp branch calls it directly
    assert [m['caption'] for m in metas] == CAPTIONS[:2]
    assert {'fp.decode_0.loss_ce', 'fp.decode_1.loss_ce',
            'unsup2.decode_0.loss_ce', 'unsup2.loss_vl_align'} <= set(losses)
    assert not any(k.startswith('fp.loss_vl') for k in losses)
    stem = next(model.student.backbone.parameters())
    [grad] = torch.autograd.grad(losses['fp.decode_0.loss_ce'], [stem])
    assert grad.abs().sum() > 0


def test_text_prior_reaches_loss_inference_and_pseudo_labels(model_cfg):
    from mmseg_viladiff.models.utils import cascade_logits
    model = plain_vl_segmentor(
        model_cfg, ground_weight=1.0, ground_prior=True, infer_mode='caption')
    inputs, samples = batch()
    metas = [s.metainfo for s in samples]
    model.eval()
    with torch.no_grad():
        fresh = model.encode_decode(inputs, metas)
        model.neck.prior_scale.fill_(1.0)
        with_prior = model.encode_decode(inputs, metas)
        x = model.extract_feat(inputs, metas)
        plain = model.decode_head.forward(x)
        prior = model._text_prior  # (B, K, h, w), this batch's
        # the teacher's path (pseudo labels) adds the same prior
        teacher, _, _ = cascade_logits(model, x)
    # a fresh prior (scales 0) changes nothing; a trained one is added to
    # the logits, except for the image without caption (index 2)
    assert torch.allclose(fresh, model.decode_head.predict_by_feat(
        plain, metas))
    assert not torch.allclose(fresh, with_prior)
    assert torch.allclose(fresh[2], with_prior[2])
    assert torch.allclose(teacher, model.add_text_prior(plain))
    assert prior[2].abs().sum() == 0 and prior[0].abs().sum() > 0
    # vision-only inference has no prior
    model.neck.infer_mode = 'vision'
    with torch.no_grad():
        model.encode_decode(inputs, metas)
    assert model._text_prior is None
    # training: the decode loss reaches the prior's scales; the vision-only
    # pyramid's loss does not see the prior
    model.neck.infer_mode = 'caption'
    model.train()
    losses = model.loss(inputs, samples)
    assert 'loss_vl_ground' in losses
    decode = [k for k in losses if k.startswith('decode.loss')]
    sum(losses[k] for k in decode).backward()
    assert model.neck.prior_scale.grad.abs().sum() > 0
    model.zero_grad()
    losses = model.loss(inputs, samples)
    sum(losses[f'vision.{k}'] for k in decode).backward()
    grad = model.neck.prior_scale.grad
    assert grad is None or grad.abs().sum() == 0


def test_text_prior_config_errors(model_cfg):
    with pytest.raises(ConfigError, match='ground_weight'):
        plain_vl_segmentor(model_cfg, ground_prior=True)
    cfg = copy.deepcopy(model_cfg.segmentor)
    cfg.neck.update(ground_weight=1.0, ground_prior=True)
    with pytest.raises(ConfigError, match='cascade'):
        MODELS.build(cfg)


def test_softmax_kl_matches_its_definition():
    from mmseg_viladiff.models.segmentors.vl_encoder_decoder import softmax_kl
    torch.manual_seed(0)
    logits, target = torch.randn(2, 5, 3, 4), torch.randn(2, 5, 3, 4)
    for t in (1.0, 2.0):
        p = torch.softmax(target / t, 1)  # the target distribution
        want = (p * (p.log() - torch.log_softmax(logits / t, 1))).sum(1)
        assert torch.allclose(
            softmax_kl(logits, target, t), want.mean() * t**2, atol=1e-6)
    assert softmax_kl(target, target, 1.0).abs() < 1e-6


def test_vision_kl_pulls_vision_logits_to_the_fused_ones(model_cfg):
    """``vision.loss_kl``: zero while the fresh neck's two paths agree; once
    they differ (adapters and the prior trained) its gradient reaches the
    vision adapters and the head, never the text paths or the prior."""
    model = plain_vl_segmentor(
        model_cfg, ground_weight=1.0, ground_prior=True, infer_mode='caption')
    model.vision_task_weight, model.vision_kl_weight = 0.0, 1.0
    model.decode_head.dropout.p = 0.0  # the two passes' masks would differ
    model.train()
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    assert [k for k in losses if k.startswith('vision.')] == ['vision.loss_kl']
    assert losses['vision.loss_kl'] < 1e-6
    adapter = model.neck.vision_path['3']
    torch.nn.init.normal_(adapter.out.weight, std=0.1)
    model.neck.prior_scale.data.fill_(1.0)
    torch.manual_seed(1)  # the same caption dropout in both passes below
    losses = model.loss(inputs, samples)
    assert losses['vision.loss_kl'] > 1e-3
    # with the vision task loss on, the KL reads the logits that loss used
    model.vision_task_weight = 1.0
    torch.manual_seed(1)
    both = model.loss(inputs, samples)
    assert 'vision.decode.loss_ce' in both
    assert torch.allclose(both['vision.loss_kl'], losses['vision.loss_kl'])
    losses['vision.loss_kl'].backward()
    assert adapter.out.weight.grad.abs().sum() > 0
    assert model.decode_head.conv_seg.weight.grad.abs().sum() > 0
    for name, p in model.neck.named_parameters():
        if name.startswith(('caption_attn', 'class_path', 'prior_scale')):
            assert p.grad is None or p.grad.abs().sum() == 0, name


def test_vision_kl_config_errors(model_cfg):
    for key, value in (('vision_kl_weight', -1.0),
                       ('vision_kl_temperature', 0.0)):
        with pytest.raises(ConfigError, match=key):
            MODELS.build(dict(copy.deepcopy(model_cfg.segmentor),
                              **{key: value}))
    with pytest.raises(ConfigError, match='vision_kl_weight works on one'):
        MODELS.build(
            dict(copy.deepcopy(model_cfg.segmentor), vision_kl_weight=1.0))
