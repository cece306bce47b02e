"""Relation and style distillation: numbers by hand, zero for identical
sets, batch-order invariance, which side gets the gradient."""
import pytest
import torch
from mmseg.registry import MODELS

from mmseg_viladiff.models.losses.cross_image_distillation import (
    channel_relation, channel_style)
from mmseg_viladiff.utils import ConfigError

TYPES = ['RelationDistillLoss', 'StyleDistillLoss']


def _sets(seed=0, b_l=3, b_u=4, c=6):
    g = torch.Generator().manual_seed(seed)
    labeled = torch.randn(b_l, c, 5, 7, generator=g)
    # another distribution: shifted, scaled, channels mixed
    mix = torch.randn(c, c, generator=g)
    unlabeled = torch.einsum('dc,bchw->bdhw', mix,
                             torch.randn(b_u, c, 5, 7, generator=g))
    unlabeled = 2 * unlabeled + 0.5
    return labeled.requires_grad_(), unlabeled.requires_grad_()


def test_relation_by_hand():
    # one sample each, C = 2 channels over 2 positions: orthogonal channels
    # (relation I) against parallel ones (relation all ones)
    labeled = torch.tensor([[1., 0.], [0., 1.]]).view(1, 2, 1, 2)
    unlabeled = torch.tensor([[1., 1.], [2., 2.]]).view(1, 2, 1, 2)
    assert torch.allclose(channel_relation(labeled)[0], torch.eye(2))
    assert torch.allclose(channel_relation(unlabeled)[0], torch.ones(2, 2))
    loss = MODELS.build(dict(type='RelationDistillLoss', loss_weight=3.0))
    # off-diagonal differences of 1: 3 * (0 + 1 + 1 + 0) / 4
    assert loss(labeled, unlabeled).item() == pytest.approx(1.5)


def test_style_by_hand():
    # C = 1: labeled samples [0, 2] and [4, 4] -> means 1, 4 (set 2.5),
    # stds 1, 0 (set 0.5); unlabeled [1, 3] -> mean 2, std 1
    labeled = torch.tensor([[0., 2.], [4., 4.]]).view(2, 1, 1, 2)
    unlabeled = torch.tensor([[1., 3.]]).view(1, 1, 1, 2)
    mean, std = channel_style(labeled)
    assert mean.flatten().tolist() == [1.0, 4.0]
    assert std.flatten().tolist() == pytest.approx([1.0, 0.0], abs=2e-3)
    loss = MODELS.build(dict(type='StyleDistillLoss'))
    # (2 - 2.5)^2 + (1 - 0.5)^2, up to the eps under the square root
    assert loss(labeled, unlabeled).item() == pytest.approx(0.5, abs=1e-3)


@pytest.mark.parametrize('type_', TYPES)
def test_zero_for_identical_sets_positive_otherwise(type_):
    labeled, unlabeled = _sets()
    loss = MODELS.build(dict(type=type_))
    assert loss(labeled, labeled).item() == 0
    # the same samples in another order (and a different set size)
    same = labeled[[2, 0, 1, 2, 0, 1]]
    assert loss(labeled, same).item() == pytest.approx(0, abs=1e-7)
    out = loss(labeled, unlabeled)
    assert out.item() > 1e-3
    out.backward()
    assert unlabeled.grad.abs().sum() > 0


@pytest.mark.parametrize('type_', TYPES)
def test_invariant_to_sample_order_within_each_set(type_):
    labeled, unlabeled = _sets(seed=1)
    loss = MODELS.build(dict(type=type_))
    ref = loss(labeled, unlabeled)
    g = torch.Generator().manual_seed(2)
    perm_l = torch.randperm(labeled.shape[0], generator=g)
    perm_u = torch.randperm(unlabeled.shape[0], generator=g)
    assert not torch.equal(perm_u, torch.arange(unlabeled.shape[0]))
    torch.testing.assert_close(loss(labeled[perm_l], unlabeled[perm_u]), ref)
    # but not to moving a sample from one set to the other
    moved = loss(labeled[:-1], torch.cat([unlabeled, labeled[-1:]]))
    assert not torch.allclose(moved, ref)


@pytest.mark.parametrize('type_', TYPES)
@pytest.mark.parametrize('detach, grad_l, grad_u', [('labeled', False, True),
                                                    ('unlabeled', True, False),
                                                    ('none', True, True)])
def test_gradient_reaches_only_the_chosen_side(type_, detach, grad_l, grad_u):
    labeled, unlabeled = _sets(seed=3)
    loss = MODELS.build(dict(type=type_, detach=detach))
    loss(labeled, unlabeled).backward()
    for feats, expected in ((labeled, grad_l), (unlabeled, grad_u)):
        if expected:
            assert feats.grad.abs().sum() > 0
        else:
            assert feats.grad is None  # not in the graph at all


def test_gradient_pulls_the_unlabeled_statistics_to_the_labeled():
    """Gradient steps on both feature sets lower each loss to a fraction
    of its start; only the unlabeled features move."""
    for type_ in TYPES:
        labeled, unlabeled = _sets(seed=4)
        before = labeled.detach().clone()
        loss = MODELS.build(dict(type=type_))
        start = loss(labeled, unlabeled).item()
        opt = torch.optim.Adam([unlabeled, labeled], lr=0.1)
        for _ in range(200):
            opt.zero_grad()
            loss(labeled, unlabeled).backward()
            opt.step()
        end = loss(labeled, unlabeled).item()
        assert end < 0.1 * start, (type_, start, end)
        assert torch.equal(labeled.detach(), before)


def test_relation_ignores_channel_scale_style_does_not():
    labeled, _ = _sets(seed=5)
    scaled = 3.0 * labeled.detach()
    relation = MODELS.build(dict(type='RelationDistillLoss'))
    style = MODELS.build(dict(type='StyleDistillLoss'))
    assert relation(labeled, scaled).item() == pytest.approx(0, abs=1e-6)
    assert style(labeled, scaled).item() > 0.1


@pytest.mark.parametrize('type_', TYPES)
def test_bad_arguments_and_inputs(type_):
    with pytest.raises(ConfigError, match='detach'):
        MODELS.build(dict(type=type_, detach='student'))
    with pytest.raises(ConfigError, match='loss_'):
        MODELS.build(dict(type=type_, loss_name='relation'))
    loss = MODELS.build(dict(type=type_))
    with pytest.raises(ValueError, match='same C'):
        loss(torch.rand(2, 3, 4, 4), torch.rand(2, 5, 4, 4))
    with pytest.raises(ValueError, match='at least one'):
        loss(torch.rand(0, 3, 4, 4), torch.rand(2, 3, 4, 4))
