"""Coverage and precision of pseudo labels, overall and near edges, and
precision at matched coverage.

Two pseudo-label sources that label different shares of the pixels cannot
be compared by precision at one threshold: a source that labels more pixels
at lower precision acts as a lower threshold. At *matched coverage* each
source labels the same share of pixels, its most confident ones, and the
more precise source is the better teacher.

:class:`CoverageHistogram` counts pixels per region (all labelled pixels,
and the band of :data:`BAND_WIDTH` pixels around ground-truth edges), true
class and confidence bin, total and correct; from that,
:meth:`CoverageHistogram.precision_at` gives the precision at any coverage
(interpolated inside a bin). Confidence bins are uniform in
``-log(1 - p)``, so they are fine where pseudo-label thresholds live
(width 0.0004 in p at p = 0.95, 2e-6 at p = 0.9999).
"""
from typing import Dict, Optional, Sequence

import torch
from torch import Tensor

#: the regions counted: every labelled pixel, and the edge band
REGIONS = ('all', 'edge band')
#: half-width in label pixels of the band around ground-truth edges
BAND_WIDTH = 3
NUM_BINS = 2000
#: -log(1 - p) of the top bin's upper edge (p = 1 - 1e-7)
S_MAX = 16.2
#: coverages (%) at which every report compares sources
COVERAGES = (50.0, 70.0, 80.0, 90.0)


def confidence_bins(confidence: Tensor, num_bins: int = NUM_BINS) -> Tensor:
    """Bin index (same shape, long) of each confidence in [0, 1], uniform
    in ``-log(1 - p)`` on [0, :data:`S_MAX`]."""
    s = -torch.log1p(-confidence.double().clamp(0, 1 - 1e-7))
    return (s / S_MAX * num_bins).long().clamp(0, num_bins - 1)


def edge_band_mask(gt: Tensor, ignore_index: int = 255) -> Tensor:
    """(B, H, W) bool: pixels within :data:`BAND_WIDTH` of a ground-truth
    edge (see ``mmseg_viladiff.models.decode_heads.edge_band``)."""
    from mmseg_viladiff.models.decode_heads import edge_band
    return edge_band(gt, BAND_WIDTH, ignore_index)


class CoverageHistogram:
    """Pixel counts per region, true class and confidence bin.

    Args:
        num_classes (int): K.
        num_bins (int): confidence bins B.
    """

    def __init__(self, num_classes: int, num_bins: int = NUM_BINS) -> None:
        self.num_classes, self.num_bins = num_classes, num_bins
        shape = (len(REGIONS), num_classes, num_bins)
        self.total = torch.zeros(shape, dtype=torch.long)  # (R, K, B)
        self.correct = torch.zeros(shape, dtype=torch.long)
        # (R, K): pixels passing the config's threshold, and right ones
        self.covered = torch.zeros(shape[:2], dtype=torch.long)
        self.covered_correct = torch.zeros(shape[:2], dtype=torch.long)

    def add(self,
            confidence: Tensor,
            labels: Tensor,
            gt: Tensor,
            confident: Tensor,
            ignore_index: int = 255) -> None:
        """Add one batch: confidence (B, H, W) float, labels and gt
        (B, H, W) long, confident (B, H, W) bool (passes the config's
        threshold)."""
        k, nb = self.num_classes, self.num_bins
        valid = gt != ignore_index
        band = edge_band_mask(gt, ignore_index)
        for r, region in enumerate((valid, valid & band)):
            true = gt[region]
            hit = labels[region] == true
            idx = true * nb + confidence_bins(confidence[region], nb)
            self.total[r] += torch.bincount(
                idx, minlength=k * nb).view(k, nb)
            self.correct[r] += torch.bincount(
                idx[hit], minlength=k * nb).view(k, nb)
            sure = confident[region]
            self.covered[r] += torch.bincount(true[sure], minlength=k)
            self.covered_correct[r] += torch.bincount(
                true[sure & hit], minlength=k)

    def _select(self, region: int, cls: Optional[int]):
        """(B,) total and correct counts of a region, one class or all."""
        if cls is None:
            return self.total[region].sum(0), self.correct[region].sum(0)
        return self.total[region, cls], self.correct[region, cls]

    def at_threshold(self, region: int, cls: Optional[int] = None) -> dict:
        """Coverage and precision (%) at the config's threshold."""
        total = int(self._select(region, cls)[0].sum())
        if cls is None:
            cov = int(self.covered[region].sum())
            right = int(self.covered_correct[region].sum())
        else:
            cov = int(self.covered[region, cls])
            right = int(self.covered_correct[region, cls])
        return dict(
            pixels=total,
            coverage=100 * cov / total if total else None,
            precision=100 * right / cov if cov else None)

    def precision_at(self,
                     coverage: float,
                     region: int,
                     cls: Optional[int] = None) -> Optional[float]:
        """Precision (%) of the most confident ``coverage`` % of the
        region's (class's) pixels; None without pixels or at coverage 0.

        Counts are accumulated from the most confident bin down; inside the
        bin where the coverage is reached, pixels are taken with the bin's
        mean precision.
        """
        total, correct = self._select(region, cls)
        n = int(total.sum())
        if n == 0 or coverage <= 0:
            return None
        want = min(coverage, 100.0) / 100 * n
        tot = total.flip(0).double()  # most confident first
        cor = correct.flip(0).double()
        cum_t, cum_c = tot.cumsum(0), cor.cumsum(0)
        i = int(torch.searchsorted(cum_t, torch.tensor(want).double()))
        i = min(i, len(cum_t) - 1)
        before_t = float(cum_t[i - 1]) if i else 0.0
        before_c = float(cum_c[i - 1]) if i else 0.0
        take = want - before_t
        rate = float(cor[i] / tot[i]) if tot[i] > 0 else 0.0
        return 100 * (before_c + take * rate) / want


def matched_coverage(hists: Dict[str, CoverageHistogram],
                     reference: str,
                     classes: Sequence[str],
                     coverages: Sequence[float] = COVERAGES) -> dict:
    """Precision of each source at the same coverages, per region.

    The coverages are :data:`COVERAGES` plus the ``reference`` source's
    coverage at the config's threshold; per class, the reference's
    coverage of that class at the threshold.

    Returns:
        dict: per region name, ``coverages`` (list of %), ``precision``
        (source -> list of %), ``per_class`` (class -> dict of
        ``coverage`` and source -> precision %).
    """
    ref = hists[reference]
    out = {}
    for r, region in enumerate(REGIONS):
        at_tau = ref.at_threshold(r)['coverage']
        covs = sorted({*coverages, *([round(at_tau, 2)] if at_tau else [])})
        per_class = {}
        for c, name in enumerate(classes):
            cov = ref.at_threshold(r, c)['coverage']
            per_class[name] = dict(
                coverage=cov,
                **{
                    src: (h.precision_at(cov, r, c) if cov else None)
                    for src, h in hists.items()
                })
        out[region] = dict(
            coverages=covs,
            threshold_coverage=at_tau,
            precision={
                src: [h.precision_at(cv, r) for cv in covs]
                for src, h in hists.items()
            },
            per_class=per_class)
    return out


def threshold_summary(hist: CoverageHistogram,
                      classes: Sequence[str]) -> dict:
    """Per region: coverage and precision at the config's threshold,
    overall and per true class."""
    return {
        region: dict(
            hist.at_threshold(r),
            per_class={
                name: hist.at_threshold(r, c)
                for c, name in enumerate(classes)
            })
        for r, region in enumerate(REGIONS)
    }
