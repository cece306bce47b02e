"""Per-class pseudo-label thresholds from a percentile of teacher confidence.

Per class c the threshold is the q-th quantile of the teacher's confidence on
the pixels it labels c, clamped to [floor, ceiling] and tracked as an EMA.
Quantiles of local data cannot be combined across ranks, so the statistic is
a per-class histogram of confidences: counts add up under an all-reduce SUM
and the quantile is read from the global cumulative histogram. Related
class-wise thresholds: FlexMatch (Zhang et al., NeurIPS 2021), FreeMatch
(Wang et al., ICLR 2023).

The functions are stateless; ``SemiEncoderDecoder`` holds the EMA buffer and
runs the all-reduce.
"""
import torch
from torch import Tensor


def confidence_histogram(confidence: Tensor,
                         labels: Tensor,
                         num_classes: int,
                         bins: int = 100,
                         ignore_index: int = 255) -> Tensor:
    """Count pixels per (predicted class, confidence bin).

    Bin j covers [j / bins, (j + 1) / bins); confidence 1 falls in the last.

    Args:
        confidence (Tensor): (B, H, W) confidences in [0, 1].
        labels (Tensor): (B, H, W) long predicted classes; ``ignore_index``
            (and any value outside [0, num_classes)) is not counted.
        num_classes (int): K.
        bins (int): number of equal bins over [0, 1].
        ignore_index (int): label of pixels to skip.

    Returns:
        Tensor: (K, bins) long counts.
    """
    valid = (labels != ignore_index) & (labels >= 0) & (labels < num_classes)
    conf = confidence[valid].float()  # (P,)
    cls = labels[valid].long()  # (P,)
    idx = (conf * bins).long().clamp(0, bins - 1)  # (P,)
    flat = torch.bincount(cls * bins + idx, minlength=num_classes * bins)
    return flat.view(num_classes, bins)  # (K, bins)


def histogram_quantile(hist: Tensor, q: float) -> Tensor:
    """The q-quantile of each row of a histogram over [0, 1], rounded down.

    The value is the lower edge of the first bin where the cumulative count
    reaches q times the row total. The sample at that rank lies in this bin,
    so the value is at most one bin width below the quantile of the counted
    samples and never above it: at least a fraction 1 - q of them have a
    confidence >= the value (e.g. a class whose pixels all have confidence
    0.7 gets 0.69 or 0.70, never 0.71, and all its pixels pass).

    Args:
        hist (Tensor): (K, bins) non-negative counts.
        q (float): quantile in [0, 1]; 0.5 is the median.

    Returns:
        Tensor: (K, ) float quantiles in [0, 1); NaN for an empty row.
    """
    num_bins = hist.shape[1]
    cum = hist.double().cumsum(dim=1)  # (K, bins)
    total = cum[:, -1]  # (K,)
    # q = 0 would stop in the leading empty bins: ask for a tiny rank instead
    target = (q * total).clamp(min=1e-6)  # (K,)
    j = (cum < target[:, None]).sum(dim=1).clamp(max=num_bins - 1)  # (K,)
    value = j.double() / num_bins  # (K,)
    nan = torch.full_like(value, float('nan'))
    return torch.where(total > 0, value, nan).float()


def update_class_thresholds(previous: Tensor, hist: Tensor, q: float,
                            momentum: float, floor: float,
                            ceiling: float) -> Tensor:
    """One EMA step of per-class percentile thresholds.

    ``new_c = m * previous_c + (1 - m) * clamp(quantile_c, floor, ceiling)``
    for every class with a counted pixel; a class without one keeps
    ``previous_c``. Starting from values in [floor, ceiling] the result
    stays there.

    Args:
        previous (Tensor): (K, ) current thresholds.
        hist (Tensor): (K, bins) confidence counts of this step, already
            summed over ranks (:func:`confidence_histogram`).
        q (float): quantile in [0, 1].
        momentum (float): EMA momentum m in [0, 1]; 0 takes the batch value.
        floor (float): lowest threshold.
        ceiling (float): highest threshold (>= floor).

    Returns:
        Tensor: (K, ) new thresholds, dtype and device of ``previous``.
    """
    quantile = histogram_quantile(hist, q).to(previous)  # (K,), NaN if empty
    target = quantile.clamp(floor, ceiling)  # NaN stays NaN
    new = momentum * previous + (1 - momentum) * target  # (K,)
    has_pixels = (hist.sum(dim=1) > 0).to(previous.device)  # (K,)
    return torch.where(has_pixels, new, previous)
