"""Statistical tests of the edge-aware mixed-noise forward process."""
import pytest
import torch

from mmseg_viladiff.models.decode_heads.mixed_noise import (alpha_bar_schedule,
                                                            corrupt_mask,
                                                            edge_band,
                                                            flip_classes,
                                                            flip_probability,
                                                            mix_mask,
                                                            perturb_features,
                                                            perturb_features_vp,
                                                            reverse_step,
                                                            unit_rms)

T = 100


def _two_halves(b=8, h=64, w=64):
    """Left half class 0, right half class 1: one vertical edge."""
    labels = torch.zeros(b, h, w, dtype=torch.long)
    labels[:, :, w // 2:] = 1
    return labels


@pytest.mark.parametrize('kind', ['cosine', 'linear'])
def test_schedules_start_at_one_and_decrease(kind):
    a = alpha_bar_schedule(T, kind)
    assert a.shape == (T + 1, ) and a[0] == 1
    assert (a[1:] < a[:-1]).all()
    if kind == 'cosine':
        assert a[-1] < 1e-3
    with pytest.raises(ValueError):
        alpha_bar_schedule(0)


def test_edge_band_width_and_ignore():
    labels = _two_halves(b=1, h=8, w=8)
    band = edge_band(labels, width=1)
    assert band[0, :, 3:5].all() and not band[0, :, :3].any() \
        and not band[0, :, 5:].any()
    assert edge_band(labels, width=2)[0, :, 2:6].all()
    # an ignored region next to class 0 makes no edge and is not in the band
    labels = torch.zeros(1, 8, 8, dtype=torch.long)
    labels[0, :, 4:] = 255
    assert not edge_band(labels, width=1).any()


@pytest.mark.parametrize('t', [5, 20, 40, 70])
def test_flip_rates_match_b_t_on_edges_and_interior(t):
    gain = 1.0
    flip_rate = 1 - alpha_bar_schedule(T)
    labels = _two_halves(b=64)
    # draw every flip from class 2, absent from the labels: a replaced pixel
    # is exactly a changed pixel
    q = torch.zeros(64, 3, 64, 64)
    q[:, 2] = 1
    g = torch.Generator().manual_seed(t)
    tt = torch.full((64, ), t, dtype=torch.long)
    noisy = corrupt_mask(
        labels,
        tt,
        flip_rate,
        3,
        edge_gain=gain,
        edge_width=1,
        flip_dist=q,
        generator=g)
    edges = edge_band(labels, 1)
    changed = noisy != labels
    b = float(flip_rate[t])
    n_edge, n_int = edges.sum().item(), (~edges).sum().item()
    for rate, n, expected in ((changed[edges].float().mean(), n_edge,
                               min(1, b * (1 + gain))),
                              (changed[~edges].float().mean(), n_int, b)):
        tol = 4 * (expected * (1 - expected) / n)**0.5 + 1e-9
        assert abs(rate.item() - expected) <= tol, (t, rate, expected)
    assert (noisy[changed] == 2).all()


def test_t_zero_changes_nothing_and_ignore_is_untouched():
    flip_rate = 1 - alpha_bar_schedule(T)
    labels = _two_halves()
    labels[:, :8] = 255
    zero = torch.zeros(8, dtype=torch.long)
    assert torch.equal(corrupt_mask(labels, zero, flip_rate, 2), labels)
    feats = torch.randn(8, 4, 16, 16)
    assert torch.equal(perturb_features(feats, zero, 1 - flip_rate), feats)
    last = torch.full((8, ), T, dtype=torch.long)
    noisy = corrupt_mask(labels, last, flip_rate, 2, edge_gain=5.0)
    assert (noisy[:, :8] == 255).all()  # never flipped
    assert (noisy[:, 8:] != 255).all()  # and never created


def test_largest_t_reaches_the_flip_distribution():
    k = 5
    flip_rate = 1 - alpha_bar_schedule(T)
    labels = torch.zeros(16, 64, 64, dtype=torch.long)
    last = torch.full((16, ), T, dtype=torch.long)
    g = torch.Generator().manual_seed(0)
    noisy = corrupt_mask(labels, last, flip_rate, k, generator=g)
    hist = torch.bincount(noisy.flatten(), minlength=k).float()
    hist /= hist.sum()
    assert torch.allclose(hist, torch.full((k, ), 1 / k), atol=0.01)
    # with a per-pixel distribution (e.g. the teacher's softmax)
    q = torch.tensor([0.7, 0.2, 0.1, 0., 0.]).view(1, k, 1,
                                                   1).expand(16, k, 64, 64)
    noisy = corrupt_mask(labels, last, flip_rate, k, flip_dist=q, generator=g)
    hist = torch.bincount(noisy.flatten(), minlength=k).float()
    assert torch.allclose(hist / hist.sum(), q[0, :, 0, 0], atol=0.01)


def test_same_seed_same_corruption():
    flip_rate = 1 - alpha_bar_schedule(T)
    labels = _two_halves()
    t = torch.randint(
        0, T + 1, (8, ), generator=torch.Generator().manual_seed(1))
    a = corrupt_mask(
        labels, t, flip_rate, 4, generator=torch.Generator().manual_seed(7))
    b = corrupt_mask(
        labels, t, flip_rate, 4, generator=torch.Generator().manual_seed(7))
    c = corrupt_mask(
        labels, t, flip_rate, 4, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_feature_noise_moments():
    alpha_bar = alpha_bar_schedule(T)
    t = torch.full((4, ), 30, dtype=torch.long)
    feats = torch.full((4, 8, 64, 64), 2.0)
    torch.manual_seed(0)
    out = perturb_features(feats, t, alpha_bar, scale=0.5)
    a = float(alpha_bar[30])
    assert out.mean().item() == pytest.approx(2 * a**0.5, abs=0.01)
    assert out.var().item() == pytest.approx((1 - a) * 0.25, rel=0.02)


def test_flip_probability_is_capped():
    flip_rate = torch.tensor([0., 0.3, 0.8])
    edges = torch.tensor([[[True, False]]])
    p = flip_probability(torch.tensor([2]), flip_rate, edges, edge_gain=1.0)
    assert torch.allclose(p, torch.tensor([[[1.0, 0.8]]]))


def test_reverse_step():
    flip_rate = 1 - alpha_bar_schedule(T)
    p0 = torch.softmax(torch.randn(2, 4, 8, 8), 1)
    out = reverse_step(p0, torch.zeros(2, dtype=torch.long), flip_rate)
    assert torch.allclose(out, p0)
    out = reverse_step(p0, torch.full((2, ), T, dtype=torch.long), flip_rate)
    assert torch.allclose(out.sum(1), torch.ones(2, 8, 8))
    assert torch.allclose(out, torch.full_like(out, 0.25), atol=1e-3)


def test_flip_classes_never_touches_ignore():
    labels = torch.full((1, 4, 4), 255, dtype=torch.long)
    out = flip_classes(labels, torch.ones(1, 4, 4), 3)
    assert (out == 255).all()


@pytest.mark.parametrize('t', [10, 50, 90])
def test_mix_mask_is_the_mean_of_the_flipped_one_hot(t):
    """The soft training mask equals the average of many hard corruptions,
    on edges (rate b (1 + g)) and inside (rate b) alike."""
    k = 3
    flip_rate = 1 - alpha_bar_schedule(T)
    labels = _two_halves(b=1, h=16, w=16)
    q = torch.softmax(torch.randn(1, k, 16, 16), 1)
    tt = torch.full((1, ), t, dtype=torch.long)
    soft = mix_mask(labels, tt, flip_rate, k, edge_gain=1.5, flip_dist=q)
    assert torch.allclose(soft.sum(1), torch.ones(1, 16, 16), atol=1e-6)
    g = torch.Generator().manual_seed(t)
    n = 3000
    hard = corrupt_mask(
        labels.expand(n, -1, -1),
        tt.expand(n),
        flip_rate,
        k,
        edge_gain=1.5,
        flip_dist=q.expand(n, -1, -1, -1),
        generator=g)
    mean = torch.nn.functional.one_hot(hard, k).float().mean(0)  # (H, W, K)
    assert torch.allclose(mean.permute(2, 0, 1), soft[0], atol=0.04)


def test_mix_mask_ends_at_the_flip_distribution_and_starts_clean():
    flip_rate = 1 - alpha_bar_schedule(T)
    labels = _two_halves(b=2, h=8, w=8)
    labels[:, 0] = 255
    q = torch.softmax(torch.randn(2, 2, 8, 8), 1)
    last = mix_mask(labels, torch.full((2, ), T), flip_rate, 2, flip_dist=q)
    # cosine: b_T = 1 - 1e-5, so at T the mask *is* the first head's softmax
    assert torch.allclose(last, q, atol=1e-4)
    zero = mix_mask(labels, torch.zeros(2, dtype=torch.long), flip_rate, 2,
                    flip_dist=q)
    onehot = torch.nn.functional.one_hot(labels.clamp(max=1), 2).permute(
        0, 3, 1, 2).float()
    assert torch.equal(zero[:, :, 1:], onehot[:, :, 1:])
    assert torch.allclose(zero[:, :, 0], q[:, :, 0])  # ignored rows read q


def test_unit_rms_cannot_be_scaled():
    feats = torch.randn(2, 6, 5, 5)
    out = unit_rms(feats)
    assert torch.allclose(out.pow(2).mean(1), torch.ones(2, 5, 5), atol=1e-4)
    assert torch.allclose(unit_rms(25.0 * feats), out, atol=1e-5)


def test_variance_preserving_feature_noise():
    """Signal share 1 - s^2 (1 - a_t), total variance 1: a learnable scale
    in front cannot change the signal-to-noise ratio."""
    alpha_bar = alpha_bar_schedule(T)
    torch.manual_seed(0)
    feats = unit_rms(torch.randn(4, 16, 32, 32))
    for t, s in ((30, 0.5), (T, 0.5), (T, 1.0)):
        tt = torch.full((4, ), t, dtype=torch.long)
        noise = torch.randn_like(feats)
        out = perturb_features_vp(feats, tt, alpha_bar, s, noise=noise)
        var = s**2 * (1 - float(alpha_bar[t]))
        assert out.pow(2).mean().item() == pytest.approx(1.0, abs=0.02)
        # regression of the output on the clean signal: sqrt(1 - var)
        coef = (out * feats).mean() / feats.pow(2).mean()
        assert coef.item() == pytest.approx((1 - var)**0.5, abs=0.02)
        # the old formula, at s = 1, is the same map
        if s == 1.0:
            old = perturb_features(feats, tt, alpha_bar, 1.0, noise=noise)
            assert torch.allclose(out, old.float(), atol=1e-5)
    with pytest.raises(ValueError, match='max_noise'):
        perturb_features_vp(feats, tt, alpha_bar, 1.5)
