"""SemanticQueryHead: class-permutation equivariance, relevance gating,
gradients (text projection yes, frozen encoder never), losses, shapes,
errors."""
import pytest
import torch
from class_text_helpers import (pyramid, permuted_text, promptor_cfg, toy_vocabulary)
from helpers import save_tiny_clip, seg_samples
from mmseg.registry import MODELS

from mmseg_viladiff.utils import ConfigError


@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    return save_tiny_clip(str(tmp_path_factory.mktemp('clip')))


def make_head(clip, num_classes=5, vocab_size=None, **kwargs):
    torch.manual_seed(0)
    cfg = dict(
        type='SemanticQueryHead',
        promptor=promptor_cfg(clip, toy_vocabulary(vocab_size or num_classes)),
        in_channels=[8, 16, 24, 32],
        in_index=[0, 1, 2, 3],
        channels=16,
        num_layers=3,
        num_heads=2,
        num_instance_queries=3,
        num_classes=num_classes,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0))
    cfg.update(kwargs)
    head = MODELS.build(cfg)
    # a trained head's pixel -> query gate is open; a fresh one's is 0
    head.pixel_attn.gate.data.fill_(0.5)
    return head


def test_permuting_the_classes_permutes_the_logits(clip):
    head = make_head(clip, 5).eval()
    x = pyramid()
    text = head.promptor()
    perm = torch.tensor([2, 4, 0, 3, 1])
    with torch.no_grad():
        out = head.decode(x, text)
        out_perm = head.decode(x, permuted_text(text, perm))
    for key in ('logits', 'semantic_logits', 'instance_logits'):
        assert out[key].shape == (2, 5, 16, 16)
        assert torch.allclose(out_perm[key], out[key][:, perm], atol=1e-5)
    assert torch.allclose(
        out_perm['relevance_logits'],
        out['relevance_logits'][:, perm],
        atol=1e-5)
    assert (out_perm['logits'] - out['logits']).abs().max() > 1e-2


def test_a_closed_gate_gets_no_mass(clip):
    head = make_head(clip, 4).eval()
    text = dict(head.promptor())
    gates = torch.zeros(2, 4)  # sigmoid(0) = 0.5: all half open
    with torch.no_grad():
        open_probs = head(pyramid(), dict(text,
                                          relevance_logits=gates)).softmax(1)
        gates[:, 2] = float('-inf')
        closed = head.decode(pyramid(), dict(text, relevance_logits=gates))
    probs = closed['logits'].softmax(1)
    assert open_probs[:, 2].max() > 0.05  # class 2 had mass while open
    assert probs[:, 2].max() < 1e-30
    assert torch.isfinite(closed['logits'][:, [0, 1, 3]]).all()
    assert torch.allclose(probs.sum(1), torch.ones(2, 16, 16))
    # its semantic query is suppressed too: a zero vector before decoding
    # (the decoded query still differs from the open one's)
    assert not torch.allclose(closed['queries'][:, 2],
                              head.decode(pyramid(), text)['queries'][:, 2])


def test_all_gates_closed_stays_finite(clip):
    head = make_head(clip, 3).eval()
    text = dict(
        head.promptor(), relevance_logits=torch.full((2, 3), float('-inf')))
    with torch.no_grad():
        assert torch.isfinite(head(pyramid(), text)).all()


def test_losses_and_gradients_reach_text_projection_never_the_encoder(clip):
    head = make_head(clip, 4).train()
    labels = torch.zeros(2, 64, 64, dtype=torch.long)
    labels[0, :32] = 1
    labels[1, :, :10] = 3
    labels[1, :, 10:20] = 255
    batch = seg_samples(labels)
    assert head.class_presence(batch).tolist() == [[1, 1, 0, 0], [1, 0, 0, 1]]
    losses = head.loss(pyramid(), batch, dict())
    assert set(losses) == {
        'loss_ce', 'acc_seg', 'loss_relevance', 'loss_query_align'
    }
    total = sum(v for k, v in losses.items() if k.startswith('loss_'))
    assert torch.isfinite(total)
    total.backward()
    params = dict(head.named_parameters())
    for name in ('text_proj.0.weight', 'query_content.0.0.weight',
                 'query_levels.2.0.0.weight', 'gate_visual.weight',
                 'gate_bias', 'instance_content', 'instance_cls.weight',
                 'align_proj.weight', 'pixel_attn.gate'):
        grad = params[name].grad
        assert grad is not None and grad.abs().sum() > 0, name
    encoder = head.promptor.cache.encoder
    assert all(not p.requires_grad and p.grad is None
               for p in encoder.parameters())
    assert not list(head.promptor.parameters())
    assert {k
            for k in head.state_dict() if k.startswith('promptor.')} == {
                'promptor.class_embeddings', 'promptor.concept_embeddings',
                'promptor.concept_class'
            }


def test_relevance_loss_is_the_bce_of_presence(clip):
    head = make_head(clip, 3, relevance_weight=1.0, align_weight=0.0)
    labels = torch.zeros(1, 8, 8, dtype=torch.long)
    labels[0, :2] = 2
    batch = seg_samples(labels)
    out = head.decode(pyramid(batch=1))
    z = out['relevance_logits'][0]
    expected = -(torch.nn.functional.logsigmoid(z[[0, 2]]).sum() +
                 torch.nn.functional.logsigmoid(-z[1])) / 3
    losses = head.text_losses(out, batch)
    assert set(losses) == {'loss_relevance'}
    assert torch.allclose(losses['loss_relevance'], expected)


@pytest.mark.parametrize('num_classes', [1, 2, 7, 11])
def test_shapes_for_several_class_counts(clip, num_classes):
    head = make_head(clip, num_classes)
    out = head.decode(pyramid(batch=3))
    assert out['logits'].shape == (3, num_classes, 16, 16)
    assert out['relevance_logits'].shape == (3, num_classes)
    assert out['queries'].shape == (3, num_classes, 16)
    assert torch.isfinite(out['logits']).all()


def test_single_level_and_no_instance_queries(clip):
    head = make_head(
        clip, 3, in_channels=[32], in_index=[3], num_instance_queries=0)
    assert head(pyramid()).shape == (2, 3, 4, 4)


@pytest.mark.parametrize(
    'kwargs, match',
    [(dict(vocab_size=6), r'num_classes = 5.*toy6.*6 classes'),
     (dict(num_heads=3), r'num_heads \(3\) must divide channels'),
     (dict(num_layers=0), r'num_layers must be >= 1'),
     (dict(align_weight=-1.0), r'align_weight must be >= 0'),
     (dict(in_index=3, in_channels=32), r'in_index and in_channels must be'),
     (dict(promptor='camvid'), r'promptor must be a config dict')])
def test_bad_config_names_the_key(clip, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        make_head(clip, 5, **kwargs)


def test_fresh_queries_differ_between_classes(clip):
    """The class text, not the class-independent attention updates, sets
    each decoded semantic query: without the LayerNorms after the text
    projection and the query MLPs, the queries of a fresh head came out
    identical (cosine 1.0) and the semantic path was constant over
    classes."""
    head = make_head(clip, 6).eval()
    with torch.no_grad():
        out = head.decode(pyramid())
    q = torch.nn.functional.normalize(out['queries'], dim=-1)  # (B, K, E)
    cos = q @ q.transpose(1, 2)
    off_diagonal = cos[:, ~torch.eye(6, dtype=torch.bool)]
    assert off_diagonal.mean() < 0.9
    assert out['semantic_logits'].std(1).mean() > 0.1
