"""Class weights from the label frequencies of a (labeled) training set.

Median-frequency balancing (Eigen & Fergus, ICCV 2015; used for CamVid by
SegNet, Badrinarayanan et al., TPAMI 2017) and ENet's inverse-log weighting
(Paszke et al., 2016), from per-class pixel counts.
"""
from typing import Dict, Optional, Sequence

import numpy as np

from .constants import IGNORE_INDEX
from .errors import DataError

#: weighting methods of :func:`class_weights_from_counts`
METHODS = ('median_freq', 'enet')


def count_label_pixels(label: np.ndarray,
                       num_classes: int,
                       label_map: Optional[Dict[int, int]] = None,
                       reduce_zero_label: bool = False,
                       source: str = '<array>') -> np.ndarray:
    """Pixels of each class in one label map, after MMSeg's label mapping.

    Args:
        label (ndarray): (H, W) integer label map as stored on disk.
        num_classes (int): K.
        label_map (dict, optional): old -> new label values (MMSeg's
            ``label_map``), applied first.
        reduce_zero_label (bool): 0 -> 255 and v -> v - 1, as MMSeg's
            ``LoadAnnotations(reduce_zero_label=True)``.
        source (str): the file the map came from, for error messages.

    Returns:
        ndarray: (K,) int64 counts; ignored pixels (255) are not counted.

    Raises:
        DataError: a value other than 0..K-1 and 255 remains; names
            ``source``.
    """
    label = label.astype(np.int64)
    if label_map:
        mapped = label.copy()
        for old, new in label_map.items():
            mapped[label == old] = new
        label = mapped
    if reduce_zero_label:
        label = np.where(label == 0, IGNORE_INDEX, label - 1)
        label[label == IGNORE_INDEX - 1] = IGNORE_INDEX
    values = label[label != IGNORE_INDEX]
    bad = values[(values < 0) | (values >= num_classes)]
    if bad.size:
        raise DataError(
            f'{source}: label values {sorted(set(bad.tolist()))[:10]} are '
            f'outside the {num_classes} classes (0..{num_classes - 1}) and '
            f'not the ignore index {IGNORE_INDEX}')
    return np.bincount(values, minlength=num_classes)


def class_weights_from_counts(counts: np.ndarray,
                              image_counts: np.ndarray,
                              method: str = 'median_freq') -> np.ndarray:
    """Per-class loss weights from pixel statistics.

    Args:
        counts (ndarray): (K,) pixels of each class.
        image_counts (ndarray): (K,) total pixels (valid ones) of the images
            in which each class appears.
        method (str): ``'median_freq'``: f_c = counts_c / image_counts_c and
            w_c = median(f) / f_c (SegNet); ``'enet'``: p_c = counts_c /
            sum(counts), w_c = 1 / ln(1.02 + p_c).

    Returns:
        ndarray: (K,) float64 weights. A class absent from the data cannot be
        weighted by its frequency; it gets the largest weight of the present
        classes.
    """
    counts = np.asarray(counts, dtype=np.float64)
    present = counts > 0
    if not present.any():
        raise DataError('no labeled pixel of any class: cannot compute '
                        'class weights')
    if method == 'median_freq':
        freq = counts[present] / np.asarray(image_counts,
                                            dtype=np.float64)[present]
        weights_present = np.median(freq) / freq
    elif method == 'enet':
        prob = counts[present] / counts.sum()
        weights_present = 1.0 / np.log(1.02 + prob)
    else:
        raise ValueError(f'method must be one of {METHODS}, got {method!r}')
    weights = np.full(counts.shape, weights_present.max())
    weights[present] = weights_present
    return weights


def accumulate_counts(per_image: Sequence[np.ndarray]):
    """(pixel counts (K,), image pixel counts (K,)) over per-image counts."""
    counts = np.sum(per_image, axis=0)
    image_counts = np.zeros_like(counts)
    for c in per_image:
        image_counts += np.where(c > 0, c.sum(), 0)
    return counts, image_counts
