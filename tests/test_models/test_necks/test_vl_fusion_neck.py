"""VLFusionNeck: shapes of every mode, masking, gradients, distillation."""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmseg_viladiff.models import VLFusionNeck
from mmseg_viladiff.utils import ConfigError

CHANNELS = [8, 16, 24, 32]
SHAPES = [(16, 16), (8, 8), (4, 4), (2, 2)]
K, D = 5, 12


def make_neck(**kwargs):
    torch.manual_seed(0)
    cfg = dict(
        in_channels=CHANNELS,
        text_dim=D,
        num_classes=K,
        embed_dims=16,
        num_heads=2,
        norm_cfg=dict(type='BN'))
    cfg.update(kwargs)
    return VLFusionNeck(**cfg)


def feats(b=2):
    return [torch.randn(b, c, *s) for c, s in zip(CHANNELS, SHAPES)]


def text(b=2, length=6, valid=(6, 3)):
    mask = torch.zeros(b, length, dtype=torch.bool)
    for i, n in enumerate(valid):
        mask[i, :n] = True
    return dict(
        class_embeddings=torch.randn(K, D),
        caption_tokens=torch.randn(b, length, D),
        caption_mask=mask)


def open_gates(neck):
    """A trained neck has non-zero caption outputs, feedback and adapter
    outputs; fresh ones are 0."""
    for attn in neck.caption_attn.values():
        torch.nn.init.normal_(attn.out.weight)
    for path in neck.class_path.values():
        torch.nn.init.normal_(path.feedback.weight)
    for adapter in neck.vision_path.values():
        torch.nn.init.normal_(adapter.out.weight)


@pytest.mark.parametrize('mode', ['train', 'caption', 'class', 'vision'])
def test_output_keeps_input_shapes(mode):
    neck = make_neck()
    open_gates(neck)
    x = feats()
    outs, aux = neck(x, text() if mode != 'vision' else None, mode)
    assert [o.shape for o in outs] == [i.shape for i in x]
    assert all(torch.isfinite(o).all() for o in outs)
    # untouched levels pass through as they are
    assert outs[0] is x[0] and outs[1] is x[1]
    # caption path on levels 2 and 3, class path on 3
    changed = (3, ) if mode == 'class' else (2, 3)
    assert all(not torch.equal(outs[i], x[i]) for i in changed)
    if mode in ('train', 'caption', 'class'):
        assert aux['similarity'][3].shape == (2, K, 2, 2)
    if mode in ('train', 'vision'):
        assert set(aux['vision']) == {2, 3}


def test_modes_use_only_their_text():
    neck = make_neck().eval()
    open_gates(neck)
    x, t = feats(), text()
    vision, _ = neck(x, None, 'vision')
    other_text = dict(
        t,
        class_embeddings=torch.randn(K, D),
        caption_tokens=torch.randn(2, 6, D))
    assert all(
        torch.equal(a, b) for a, b in zip(vision,
                                          neck(x, other_text, 'vision')[0]))
    cls, _ = neck(x, t, 'class')
    cls_other_captions, _ = neck(x,
                                 dict(t, caption_tokens=torch.randn(2, 6, D)),
                                 'class')
    assert all(torch.equal(a, b) for a, b in zip(cls, cls_other_captions))
    cap, _ = neck(x, t, 'caption')
    assert not torch.allclose(cap[2], cls[2])
    # eval mode without an explicit mode uses infer_mode
    assert neck.infer_mode == 'vision'
    assert torch.equal(neck(x, t)[0][3], vision[3])


def test_padding_mask_really_masks():
    neck = make_neck().eval()
    open_gates(neck)
    x, t = feats(), text(valid=(6, 3))
    out, _ = neck(x, t, 'caption')
    changed = dict(t, caption_tokens=t['caption_tokens'].clone())
    changed['caption_tokens'][1, 3:] = 100.0  # padded tokens of sample 1
    out2, _ = neck(x, changed, 'caption')
    assert all(torch.allclose(a, b) for a, b in zip(out, out2))
    changed['caption_tokens'][1, 0] = 100.0  # a real token
    out3, _ = neck(x, changed, 'caption')
    assert not torch.allclose(out[3][1], out3[3][1])
    assert torch.allclose(out[3][0], out3[3][0])  # the other sample


def test_empty_caption_skips_caption_path():
    neck = make_neck().eval()
    open_gates(neck)
    x, t = feats(), text(valid=(6, 0))
    with_caption, _ = neck(x, t, 'caption')
    class_only, _ = neck(x, t, 'class')
    assert torch.isfinite(with_caption[3]).all()
    assert torch.allclose(with_caption[3][1], class_only[3][1])
    assert not torch.allclose(with_caption[3][0], class_only[3][0])


def samples(labels):
    out = []
    for label in labels:
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=label[None])
        out.append(s)
    return out


def test_losses_and_gradients_reach_vision_path():
    neck = make_neck().train()
    open_gates(neck)
    x = [f.requires_grad_() for f in feats()]
    outs, aux = neck(x, text(), 'train')
    labels = torch.randint(0, K, (2, 64, 64))
    labels[0, :32] = 255
    losses = neck.loss(aux, samples(labels))
    assert set(losses) == {'loss_vl_align', 'loss_vl_distill'}
    (losses['loss_vl_align'] + losses['loss_vl_distill'] +
     sum(o.sum() for o in outs)).backward()
    for name, p in neck.named_parameters():
        if name.startswith('vision_path') and name.endswith('out.weight'):
            assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert neck.class_path['3'].proj.weight.grad.abs().sum() > 0
    assert x[3].grad.abs().sum() > 0  # and on into the backbone


def test_all_ignored_labels_give_zero_align_loss():
    neck = make_neck().train()
    _, aux = neck(feats(), text(), 'train')
    losses = neck.loss(aux, samples(torch.full((2, 64, 64), 255)))
    assert losses['loss_vl_align'].item() == 0
    losses['loss_vl_align'].backward()  # still part of the graph


def test_grounding_loss_reads_only_captioned_samples():
    assert make_neck().grounding is None
    neck = make_neck(ground_weight=2.0).train()
    x = feats()
    t = text(valid=(6, 0))  # the second image has no caption
    labels = torch.randint(0, K, (2, 64, 64))
    _, aux = neck(x, t, 'train')
    assert aux['has_caption'].tolist() == [True, False]
    assert [g.shape for g in aux['grounding'].values()] == \
        [(2, K, 4, 4), (2, K, 2, 2)]
    loss = neck.loss(aux, samples(labels))['loss_vl_ground']
    # the uncaptioned sample's labels do not count
    other = labels.clone()
    other[1] = torch.randint(0, K, (64, 64))
    assert neck.loss(aux, samples(other))['loss_vl_ground'].item() == \
        pytest.approx(loss.item())
    changed = labels.clone()
    changed[0] = (changed[0] + 1) % K
    assert neck.loss(aux, samples(changed))['loss_vl_ground'].item() != \
        pytest.approx(loss.item())
    loss.backward()  # trains the attention that fetched the text
    for attn in neck.caption_attn.values():
        assert attn.query.weight.grad.abs().sum() > 0
        assert attn.attn.v_proj_weight.grad.abs().sum() > 0
    # without ground_prior the neck returns no prior; a no-caption batch
    # grounds nothing
    assert 'prior' not in neck.eval()(x, t, 'caption')[1]
    _, aux = neck.train()(x, text(valid=(0, 0)), 'train')
    empty = neck.loss(aux, samples(labels))['loss_vl_ground']
    assert empty.item() == 0
    with pytest.raises(ConfigError, match='ground_weight'):
        make_neck(ground_weight=-1)


def test_text_prior_from_grounding():
    neck = make_neck(ground_weight=1.0, ground_prior=True).eval()
    x, t = feats(), text(valid=(6, 0))
    with torch.no_grad():
        neck.prior_scale.copy_(torch.arange(1.0, K + 1))
        _, aux = neck(x, t, 'caption')
    prior = aux['prior']  # at the finer caption level (4x4)
    assert prior.shape == (2, K, 4, 4)
    assert prior[1].abs().sum() == 0  # no caption, no prior
    # per class: scale k times a log-probability (<= 0)
    logp = prior[0] / neck.prior_scale.view(K, 1, 1)
    assert (logp <= 0).all()
    # the mean of the levels' log-probabilities, the coarse one upsampled
    levels = [
        torch.nn.functional.interpolate(
            aux['grounding'][i], size=(4, 4), mode='bilinear').log_softmax(1)
        for i in (2, 3)
    ]
    assert torch.allclose(logp, (levels[0][0] + levels[1][0]) / 2,
                          atol=1e-5)
    for mode in ('class', 'vision'):
        assert 'prior' not in neck(x, t, mode)[1]
    with pytest.raises(ConfigError, match='ground_weight'):
        make_neck(ground_prior=True)


def test_distillation_loss_decreases_on_toy_problem():
    neck = make_neck(caption_dropout=0.0).train()
    open_gates(neck)
    x, t = feats(4), text(4, valid=(6, 4, 2, 5))
    for p in neck.parameters():
        p.requires_grad_(False)
    for p in neck.vision_path.parameters():
        p.requires_grad_(True)
    opt = torch.optim.Adam(neck.vision_path.parameters(), lr=1e-2)
    history = []
    for _ in range(60):
        _, aux = neck(x, t, 'train')
        loss = neck.loss(aux, samples(torch.zeros(4, 64, 64).long()))
        loss = loss['loss_vl_distill']
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    assert history[-1] < 0.5 * history[0], history[::10]


def test_caption_dropout_in_training_only():
    neck = make_neck(caption_dropout=1.0)
    open_gates(neck)
    x, t = feats(), text()
    train_out, _ = neck.train()(x, t, 'train')
    class_out, _ = neck.eval()(x, t, 'class')
    neck.train()
    # every caption dropped: the text levels equal the class-only path
    # (BN of the adapters is not on the fused path)
    assert torch.allclose(train_out[3], class_out[3], atol=1e-6)


def test_bad_config():
    with pytest.raises(ConfigError, match='infer_mode'):
        make_neck(infer_mode='captions')
    with pytest.raises(ConfigError, match='caption_levels'):
        make_neck(caption_levels=(4, ))
    with pytest.raises(ConfigError, match='caption_dropout'):
        make_neck(caption_dropout=1.5)


def test_label_resolution_alignment_sees_a_thin_class():
    """A class present only as a 1-pixel-wide line (a pole): nearest-
    downsampling to the 2x2 class level drops it, so 'level' alignment
    never sees it; on logits upsampled to the labels it counts."""
    labels = torch.zeros(2, 64, 64, dtype=torch.long)
    thin = labels.clone()
    thin[:, :, 10] = 4  # a column nearest-sampling to 2x2 skips
    for resolution, sees_it in (('level', False), ('label', True)):
        neck = make_neck(align_resolution=resolution).train()
        _, aux = neck(feats(), text(), 'train')
        without = neck.loss(aux, samples(labels))['loss_vl_align']
        with_pole = neck.loss(aux, samples(thin))['loss_vl_align']
        assert torch.isclose(without, with_pole).item() != sees_it
        # the gradient asks for class 4 only when the loss sees it
        sim = aux['similarity'][3]
        grad, = torch.autograd.grad(with_pole, sim)
        assert (grad[:, 4] < 0).any().item() == sees_it


def test_label_resolution_alignment_ignores_255_and_keeps_graph():
    neck = make_neck(align_resolution='label').train()
    _, aux = neck(feats(), text(), 'train')
    labels = torch.randint(0, K, (2, 64, 64))
    labels[:, 32:] = 255
    loss = neck.loss(aux, samples(labels))['loss_vl_align']
    sim = torch.nn.functional.interpolate(
        aux['similarity'][3], size=(64, 64), mode='bilinear')
    expected = torch.nn.functional.cross_entropy(sim, labels, ignore_index=255)
    assert torch.allclose(loss, neck.align_weight * expected)
    empty = neck.loss(aux, samples(torch.full((2, 64, 64), 255)))
    assert empty['loss_vl_align'].item() == 0
    empty['loss_vl_align'].backward()


def test_class_path_on_the_stride_4_level():
    neck = make_neck(class_levels=(0, 3), align_resolution='label').train()
    outs, aux = neck(feats(), text(), 'train')
    assert aux['similarity'][0].shape == (2, K, 16, 16)
    assert set(aux['vision']) == {0, 2, 3}
    losses = neck.loss(aux, samples(torch.randint(0, K, (2, 64, 64))))
    losses['loss_vl_align'].backward()
    assert neck.class_path['0'].proj.weight.grad.abs().sum() > 0


def test_bad_align_resolution():
    assert make_neck().align_resolution == 'level'  # old configs unchanged
    with pytest.raises(ConfigError, match='align_resolution'):
        make_neck(align_resolution='input')


def test_fresh_caption_path_is_the_identity_and_learns_at_once():
    """Identity at initialisation (zero output projection), yet the
    projection gets a gradient from the first step (open gate): with a
    closed gate it would get none."""
    from mmseg_viladiff.models.necks.vl_fusion_neck import \
        CaptionCrossAttention
    torch.manual_seed(0)
    attn = CaptionCrossAttention(8, D, 16, 2)
    x = torch.randn(2, 8, 4, 4)
    t = text(b=2)
    y, attended = attn(x, t['caption_tokens'], t['caption_mask'])
    assert torch.equal(y, x) and attended.shape == (2, 16, 4, 4)
    (y * torch.randn_like(y)).sum().backward()
    assert attn.out.weight.grad.abs().sum() > 0
    attn.zero_grad()
    with torch.no_grad():
        attn.gate.zero_()
    y, _ = attn(x, t['caption_tokens'], t['caption_mask'])
    (y * torch.randn_like(y)).sum().backward()
    assert attn.out.weight.grad.abs().sum() == 0


def test_position_code_and_its_option():
    from mmseg_viladiff.models.necks.vl_fusion_neck import (
        CaptionCrossAttention, position_code)
    code = position_code(2, 3, 4, torch.zeros(1))
    assert code.shape == (6, 16) and code.abs().max() <= 1
    # pixels in one row share the row half of the code, not the column half
    assert torch.equal(code[0, :8], code[2, :8])
    assert not torch.equal(code[0, 8:], code[2, 8:])
    assert CaptionCrossAttention(8, D, 16, 2, position_freqs=0).position \
        is None
    with pytest.raises(ConfigError, match='position_freqs'):
        CaptionCrossAttention(8, D, 16, 2, position_freqs=-1)
    # the neck passes its option on
    neck = make_neck(caption_position_freqs=2)
    assert all(m.position.in_features == 8
               for m in neck.caption_attn.values())
