import pytest
import torch

from mmseg_viladiff.models.utils import feature_dropout


def test_dropout_zeroes_whole_channels_about_half_per_sample():
    torch.manual_seed(0)
    feats = (torch.rand(16, 64, 5, 5) + 0.5, torch.rand(16, 32, 3, 3) + 0.5)
    out = feature_dropout(feats, p=0.5)
    assert isinstance(out, tuple) and len(out) == 2
    for f, o in zip(feats, out):
        assert o.shape == f.shape
        zero = (o == 0).all(dim=(2, 3))  # (B, C): channel dropped
        kept = (o != 0).all(dim=(2, 3))
        assert (zero | kept).all()  # whole channels, never single pixels
        # survivors scaled by 1 / (1 - p)
        assert torch.allclose(o[kept], 2 * f[kept])
        frac = zero.float().mean(dim=1)  # (B,) dropped fraction per sample
        assert 0.45 < frac.mean() < 0.55
        assert (frac > 0.2).all() and (frac < 0.8).all()
        # independent per sample: no two samples drop the same channels
        assert len({tuple(z.tolist()) for z in zero}) == zero.shape[0]
    # the levels draw their own masks (same channel count, different masks)
    a, b = feature_dropout((torch.ones(4, 32, 2, 2), ) * 2, p=0.5)
    assert not torch.equal(a == 0, b == 0)


def test_dropout_is_identity_outside_training_or_at_zero():
    feats = [torch.rand(2, 8, 4, 4)]
    for out in (feature_dropout(feats, 0.5, training=False),
                feature_dropout(feats, 0.0)):
        assert out[0] is feats[0]


@pytest.mark.parametrize('p', [1.0, -0.1])
def test_bad_probability(p):
    with pytest.raises(ValueError, match=r'\[0, 1\)'):
        feature_dropout([torch.rand(1, 2, 2, 2)], p)


def test_flat_level_is_refused():
    with pytest.raises(ValueError, match='level 1'):
        feature_dropout([torch.rand(1, 2, 2, 2), torch.rand(1, 2, 4)])
