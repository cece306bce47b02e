"""VLGuidedHead: class-permutation equivariance, cross-class reasoning,
gradients (text projection yes, frozen encoder never), shapes, errors."""
import pytest
import torch
from class_text_helpers import (pyramid, permuted_text, promptor_cfg, toy_vocabulary)
from helpers import save_tiny_clip, seg_samples
from mmseg.registry import MODELS

from mmseg_viladiff.models.decode_heads import (concept_index,
                                                max_over_concepts)
from mmseg_viladiff.utils import ConfigError


@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    return save_tiny_clip(str(tmp_path_factory.mktemp('clip')))


def make_head(clip, num_classes=5, pooling='mean', vocab_size=None, **kwargs):
    torch.manual_seed(0)
    cfg = dict(
        type='VLGuidedHead',
        promptor=promptor_cfg(clip, toy_vocabulary(vocab_size or num_classes)),
        in_channels=[8, 16, 32],
        in_index=[0, 1, 3],
        channels=16,
        text_channels=16,
        sim_kernel=3,
        spatial='conv',
        num_heads=2,
        pool_size=2,
        skip_channels=(8, 4),
        up_channels=(8, 8),
        num_classes=num_classes,
        concept_pooling=pooling,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0))
    cfg.update(kwargs)
    return MODELS.build(cfg)


@pytest.mark.parametrize('pooling', ['mean', 'max'])
def test_permuting_the_classes_permutes_the_logits(clip, pooling):
    head = make_head(clip, 5, pooling).eval()
    x = pyramid()
    text = head.promptor()
    perm = torch.tensor([3, 0, 4, 1, 2])
    with torch.no_grad():
        out = head(x, text)
        out_perm = head(x, permuted_text(text, perm))
    assert out.shape == (2, 5, 16, 16)
    assert torch.allclose(out_perm, out[:, perm], atol=1e-5)
    # the logits do depend on which text sits where
    assert (out_perm - out).abs().max() > 1e-2


def test_classes_exchange_information_only_through_class_attention(clip):
    """Changing class 4's text changes the logits of class 0 (the class
    attention mixes classes); without class-attention layers it cannot."""
    for layers, coupled in ((2, True), (0, False)):
        head = make_head(clip, 5, num_attn_layers=layers).eval()
        text = head.promptor()
        other = dict(text, class_embeddings=text['class_embeddings'].clone())
        other['class_embeddings'][4] = -other['class_embeddings'][4]
        with torch.no_grad():
            a, b = head(pyramid(), text), head(pyramid(), other)
        change = (a[:, 0] - b[:, 0]).abs().max()
        assert (change > 1e-4) == coupled, (layers, float(change))
        assert (a[:, 4] - b[:, 4]).abs().max() > 1e-3


def test_max_pooling_takes_each_class_best_concept():
    concept_class = torch.tensor([1, 0, 1, 2, 1])
    index = concept_index(concept_class, 3)
    assert index.tolist() == [[1, -1, -1], [0, 2, 4], [3, -1, -1]]
    sim = torch.tensor([5., 1., -2., 0.5, 7.]).view(1, 5, 1, 1)
    pooled = max_over_concepts(sim, index)[0, :, 0, 0]
    assert pooled.tolist() == [1.0, 7.0, 0.5]  # padding never wins
    with pytest.raises(ValueError, match=r'classes \[3\]'):
        concept_index(concept_class, 4)


def test_max_pooled_similarity_is_the_best_phrase(clip):
    head = make_head(clip, 3, 'max')
    text = head.promptor()
    x = pyramid()[3]
    sim = head.similarity(x, text)  # (B, K, h, w)
    pixels = torch.nn.functional.normalize(head.pixel_proj(x), dim=1)
    per_phrase = torch.einsum('bdhw,pd->bphw', pixels,
                              text['concept_embeddings'])
    scale = head.logit_scale.exp()
    for k in range(3):
        mine = per_phrase[:, text['concept_class'] == k].amax(1)
        assert torch.allclose(sim[:, k], scale * mine, atol=1e-5)


def test_gradients_reach_text_projection_never_the_encoder(clip):
    head = make_head(clip, 4, 'max').train()
    labels = torch.randint(0, 4, (2, 64, 64))
    losses = head.loss(pyramid(), seg_samples(labels), dict())
    assert torch.isfinite(losses['loss_ce'])
    losses['loss_ce'].backward()
    for name in ('text_proj.0.weight', 'pixel_proj.weight', 'logit_scale',
                 'sim_embed.weight', 'cls.weight'):
        grad = dict(head.named_parameters())[name].grad
        assert grad is not None and grad.abs().sum() > 0, name
    encoder = head.promptor.cache.encoder
    assert all(not p.requires_grad and p.grad is None
               for p in encoder.parameters())
    # the encoder is no sub-module: none of its weights is trained or saved
    assert not list(head.promptor.parameters())
    state = head.state_dict()
    assert {k
            for k in state if k.startswith('promptor.')} == {
                'promptor.class_embeddings', 'promptor.concept_embeddings',
                'promptor.concept_class'
            }
    assert not state['promptor.class_embeddings'].requires_grad


@pytest.mark.parametrize('num_classes', [1, 2, 7, 11])
def test_shapes_for_several_class_counts(clip, num_classes):
    head = make_head(clip, num_classes, 'max')
    out = head(pyramid(batch=3))
    assert out.shape == (3, num_classes, 16, 16)
    assert torch.isfinite(out).all()


def test_aspp_and_no_skip_variants(clip):
    head = make_head(
        clip,
        3,
        spatial='aspp',
        aspp_dilations=(1, 2),
        in_channels=[32],
        in_index=[3],
        skip_channels=(),
        up_channels=())
    assert head(pyramid()).shape == (2, 3, 4, 4)  # the similarity level


@pytest.mark.parametrize(
    'kwargs, match',
    [(dict(vocab_size=6), r'num_classes = 5.*toy6.*6 classes'),
     (dict(skip_channels=(8, )), r'skip_channels needs one entry per skip'),
     (dict(num_heads=3), r'num_heads \(3\) must divide'),
     (dict(spatial='unet'), r'spatial must be one of'),
     (dict(pooling='min'), r'concept_pooling must be one of'),
     (dict(embed_dims=64), r'embed_dims \(64\) must equal the text dim'),
     (dict(input_transform='resize_concat'), r'input_transform is always')])
def test_bad_config_names_the_key(clip, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        make_head(clip, 5, **kwargs)


def test_max_pooling_needs_concept_text(clip):
    with pytest.raises(ConfigError, match=r"promptor.class_text='concepts'"):
        make_head(
            clip,
            5,
            'max',
            promptor=promptor_cfg(clip, toy_vocabulary(5), 'prompts'))
