"""VLEncoderDecoder / VLCascadeEncoderDecoder inside SemiEncoderDecoder."""
import copy

import pytest
import torch
from helpers import VILADIFF_SYNTHETIC_CONFIG
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_viladiff.models import SemiEncoderDecoder, VLSegmentorMixin
from mmseg_viladiff.utils import ConfigError, adapt_cfg_to_device

CAPTIONS = ['a disc and a square', 'a triangle', '', 'a square']


@pytest.fixture(scope='module')
def model_cfg(tmp_path_factory):
    cfg = Config.fromfile(VILADIFF_SYNTHETIC_CONFIG)
    adapt_cfg_to_device(cfg)
    cfg.model.segmentor.backbone.init_cfg = None
    cfg.model.segmentor.promptor.cache_dir = str(
        tmp_path_factory.mktemp('text_cache'))
    return cfg.model


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
        attn.gate.data.fill_(1.0)  # the caption path as after some training
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
        attn.gate.data.fill_(1.0)
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
