import math

import pytest
import torch

from mmseg_viladiff.models.utils import (confidence_histogram,
                                         histogram_quantile,
                                         update_class_thresholds)

BINS = 100


def _hist(values_per_class, bins=BINS):
    """(K, bins) histogram of a list of 1-D confidence tensors."""
    conf = torch.cat(values_per_class)[None, None]  # (1, 1, P)
    labels = torch.cat([
        torch.full((len(v), ), c, dtype=torch.long)
        for c, v in enumerate(values_per_class)
    ])[None, None]  # (1, 1, P)
    return confidence_histogram(conf, labels, len(values_per_class), bins)


def test_histogram_counts_bins_and_skips_ignored_pixels():
    conf = torch.tensor([[[0.0, 0.004, 0.015, 1.0], [0.5, 0.5, 0.9, 0.9]]])
    labels = torch.tensor([[[0, 0, 1, 1], [255, 1, 0, 255]]])
    hist = confidence_histogram(conf, labels, num_classes=2, bins=BINS)
    assert hist.shape == (2, BINS) and hist.dtype == torch.long
    assert hist.sum().item() == 6  # two ignored pixels
    assert hist[0, 0].item() == 2 and hist[0, 90].item() == 1
    assert hist[1, 1].item() == 1 and hist[1, 50].item() == 1
    assert hist[1, BINS - 1].item() == 1  # confidence 1 in the last bin


@pytest.mark.parametrize('q', [0.0, 0.1, 0.5, 0.9, 1.0])
def test_quantile_from_histogram_matches_torch_quantile(q):
    g = torch.Generator().manual_seed(0)
    values = [
        torch.rand(5000, generator=g),  # uniform
        0.5 + 0.5 * torch.rand(2000, generator=g)**3,  # skewed to 0.5
    ]
    est = histogram_quantile(_hist(values), q)
    assert est.shape == (2, )
    for c, v in enumerate(values):
        ref = torch.quantile(v, q).item()
        # rounded down to its bin's lower edge
        assert ref - 1 / BINS <= est[c].item() <= ref + 1e-6, (c, est, ref)
        # so at least a fraction 1 - q of the samples reach it
        assert (v >= est[c]).float().mean() >= 1 - q - 1e-6


def test_quantile_of_an_empty_class_is_nan():
    hist = torch.zeros(2, BINS, dtype=torch.long)
    hist[0, 70] = 3
    est = histogram_quantile(hist, 0.5)
    assert math.isclose(est[0].item(), 0.70, abs_tol=1e-6)  # lower edge
    assert math.isnan(est[1].item())


def test_update_clamps_to_floor_and_ceiling_and_keeps_empty_classes():
    values = [
        torch.full((50, ), 0.99),  # above the ceiling
        torch.full((50, ), 0.2),  # below the floor
        torch.full((50, ), 0.7),  # inside: its own value
        torch.zeros(0),  # not predicted in this batch
    ]
    previous = torch.tensor([0.9, 0.9, 0.9, 0.8])
    new = update_class_thresholds(
        previous,
        _hist(values),
        q=0.5,
        momentum=0.0,
        floor=0.6,
        ceiling=0.95)
    assert new[0].item() == pytest.approx(0.95)
    assert new[1].item() == pytest.approx(0.6)
    assert 0.7 - 1 / BINS <= new[2].item() <= 0.7
    assert new[3] == previous[3]  # unchanged, exactly
    # EMA: m * previous + (1 - m) * clamped quantile
    ema = update_class_thresholds(
        previous, _hist(values), q=0.5, momentum=0.9, floor=0.6, ceiling=0.95)
    assert ema[0].item() == pytest.approx(0.9 * 0.9 + 0.1 * 0.95)
    assert ema[1].item() == pytest.approx(0.9 * 0.9 + 0.1 * 0.6)
    assert ema[3] == previous[3]
