"""Coverage histograms and precision at matched coverage
(``benchmarks/camvid/coverage.py``) on hand-made pixels."""
import pytest
import torch
from camvid.coverage import (CoverageHistogram, confidence_bins,
                             matched_coverage, threshold_summary)


def _one_row(values, dtype=torch.float):
    return torch.tensor([[values]], dtype=dtype)  # (1, 1, P)


def test_bins_are_monotonic_and_fine_near_one():
    conf = torch.tensor([0., 0.5, 0.95, 0.9504, 0.999, 0.9999, 1.0])
    bins = confidence_bins(conf)
    assert bins.tolist() == sorted(bins.tolist())
    assert bins[2] != bins[3]  # 0.0004 apart at 0.95: different bins
    assert bins[0] == 0 and bins[-2] < bins[-1] <= 1999


def test_precision_at_coverage_takes_the_most_confident_pixels():
    h = CoverageHistogram(2)
    gt = _one_row([0, 0, 0, 0], torch.long)
    labels = _one_row([0, 0, 1, 0], torch.long)  # the 0.8 pixel is wrong
    conf = _one_row([0.99, 0.9, 0.8, 0.6])
    h.add(conf, labels, gt, conf >= 0.85)
    assert h.precision_at(50, 0) == pytest.approx(100.0)
    assert h.precision_at(75, 0) == pytest.approx(200 / 3)
    assert h.precision_at(100, 0) == pytest.approx(75.0)
    # half of the wrong pixel's bin: 2 right of 2.5
    assert h.precision_at(62.5, 0) == pytest.approx(80.0)
    assert h.precision_at(50, 0, cls=1) is None  # no pixel of class 1
    at_tau = h.at_threshold(0)
    assert at_tau['coverage'] == pytest.approx(50.0)
    assert at_tau['precision'] == pytest.approx(100.0)


def test_edge_band_region_and_matched_coverage_of_two_sources():
    gt = torch.zeros(1, 8, 8, dtype=torch.long)
    gt[:, :, 4:] = 1
    gt[:, 0, 2] = 255  # ignored: in no region
    wrong = torch.zeros(1, 8, 8, dtype=torch.bool)
    wrong[:, :, 3:5] = True  # both sources err on the two edge columns
    labels = torch.where(wrong, 1 - gt, gt).clamp(max=1)
    # source a is unsure where it is wrong, source b the opposite
    conf_a = torch.where(wrong, 0.6, 0.99)
    conf_b = torch.where(wrong, 0.99, 0.6)
    hists = {}
    for name, conf in (('a', conf_a), ('b', conf_b)):
        hists[name] = CoverageHistogram(2)
        hists[name].add(conf, labels, gt, conf >= 0.95)
    a = hists['a']
    # band of 3 px around the edge between columns 3 and 4: columns 1..6
    assert int(a.total[1].sum()) == 48 - 1
    assert int(a.total[0].sum()) == 63
    summary = threshold_summary(a, ['x', 'y'])
    # at tau 0.95 source a covers the 47 right pixels of 63: all right
    assert summary['all']['coverage'] == pytest.approx(100 * 47 / 63)
    assert summary['all']['precision'] == pytest.approx(100.0)
    # in the band: 47 - 16 = 31 of 47 covered
    assert summary['edge band']['coverage'] == pytest.approx(100 * 31 / 47)
    m = matched_coverage(hists, 'a', ['x', 'y'], coverages=(50.0, ))
    overall = m['all']
    assert overall['coverages'] == [50.0, round(100 * 47 / 63, 2)]
    # at 50 %: a takes right pixels only, b takes its 16 wrong ones first
    assert overall['precision']['a'][0] == pytest.approx(100.0)
    assert overall['precision']['b'][0] == pytest.approx(
        100 * (31.5 - 16) / 31.5)
    x = m['edge band']['per_class']['x']
    assert x['coverage'] == pytest.approx(100 * 15 / 23)  # 23 band px of x
    assert x['a'] == pytest.approx(100.0) and x['b'] < 60
