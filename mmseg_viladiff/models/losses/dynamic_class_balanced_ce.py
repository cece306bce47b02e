"""DyCE: cross-entropy weighted by the running class frequency of its labels.

SemiDAViL (Basak & Yin, CVPR 2025, seed 003) balances long-tailed classes
with a "dynamic cross-entropy". Its released ``losses.py`` (``DyCELoss``,
the paper's eq. 9, read on github.com/hritam-98/SemiDAViL, not copied)
takes the hardest ``h`` = 20% pixels ``H`` of the batch (largest CE) and
computes::

    L_file = |H|^-w * sum_c n_c^-(1-w) * sum_{i in H, y_i = c} CE_i

with ``n_c`` the number of pixels of class c in ``H`` and ``w`` = omega =
0.5. Writing ``n_c = q_c |H|`` (``q_c`` the share of class c in ``H``)
gives ``L_file = 1/|H| * sum_{i in H} q_{y_i}^-(1-w) * CE_i``: the mean CE
with class weights ``q_c^(w-1)``; ``w = 1`` is plain CE, ``w = 0`` inverse
frequency, ``w = 0.5`` the inverse square root.

This loss keeps the weights ``f_c^(w-1)`` and changes where ``f`` comes
from and how the sum is normalised::

    f   <- f + a_t (q - f),  a_t = (1 - m) / (1 - m^t)        (per forward)
    w_c  = (K * max(f_c, f_min)) ^ (omega - 1)
    L    = sum_p w[y_p] s_p CE_p / sum_p w[y_p] s_p           (valid p)

- ``q`` is the class histogram of this forward's valid labels (labels or
  pseudo labels; ``ignore_index`` excluded), summed over all ranks with one
  ``all_reduce`` per forward on every rank (also with no valid pixel, so no
  rank waits for another), normalised to sum 1. ``f`` is its
  bias-corrected EMA with momentum ``m``, a buffer (saved in checkpoints;
  ``t`` counts the forwards with a valid pixel, also a buffer), so a resumed
  run continues exactly and all ranks hold the same weights. ``a_1 = 1``:
  the first batch sets ``f``; ``m = 0``: ``f = q``, the per-batch
  frequency as in the released file. ``f`` starts uniform (1/K) and is
  updated only in training mode. The file's per-batch count in 20% of one
  GPU's batch is zero for most classes of a long-tailed dataset (weight
  1e8 for the first pixel of a class) and differs between ranks.
- the weighted mean (as ``F.cross_entropy(weight=...)`` and
  :class:`ClassBalancedCrossEntropyLoss`) instead of the file's mean over
  pixels: the loss scale does not move with the class mix of a batch (the
  file's is ``K^(1-w)`` times CE for uniform classes), so ``unsup_weight``
  and ``loss_weight`` keep their meaning, and uniform frequencies give
  exactly plain CE over valid pixels. The factor K only makes weights
  read as "1 = a class at the uniform frequency"; the weighted mean
  cancels it. ``f_min`` bounds the weight of a class not seen yet.
- hard-pixel mining is optional (``hard_ratio``; 1: every valid pixel,
  the default; the file's 0.2 is one key away). Frequencies always count
  every valid pixel, mined or not.

With ``omega = 0`` and frequencies of the labeled images the weights are
proportional to the median-frequency weights of ``tools/class_weights.py``
(up to its per-class presence normalisation), which the weighted mean
makes scale-free: DyCE is then a running-estimate form of
:class:`ClassBalancedCrossEntropyLoss`.

Semi-supervised loop: with ``semi_train_cfg.unsup_class_weight=False``,
:func:`~mmseg_viladiff.models.utils.class_weights_off` sets
``class_weighting = False`` for the loss on pseudo labels: unweighted CE
over valid pixels (``hard_ratio`` still applies), and the pseudo labels
neither update nor read ``f`` (no collective either, on every rank
alike); ``f`` then counts the labeled images only.
``unsup_class_weight=True`` (the ``dyce_*`` configs) weights pseudo labels
too and counts them into the same ``f``: two updates per iteration, each
with its collective.
"""
import math
from typing import Optional

import torch
import torch.nn as nn
from mmengine.dist import all_reduce
from mmseg.registry import MODELS
from torch import Tensor

from ...utils.constants import IGNORE_INDEX
from ...utils.errors import ConfigError
from .class_balanced_cross_entropy import (check_loss_name,
                                           pixel_cross_entropy,
                                           weighted_pixel_mean)


def dyce_class_weight(frequency: Tensor, omega: float,
                      min_frequency: float) -> Tensor:
    """w_c = (K * max(f_c, f_min)) ^ (omega - 1).

    Args:
        frequency (Tensor): (K,) class frequencies (sum 1).
        omega (float): 1: all weights 1; 0: inverse frequency.
        min_frequency (float): floor of f_c.

    Returns:
        Tensor: (K,) weights, 1 for a class at frequency 1/K.
    """
    k = frequency.numel()
    return (k * frequency.clamp(min=min_frequency))**(omega - 1.0)


def hardest_pixels(loss: Tensor, valid: Tensor, ratio: float) -> Tensor:
    """The ``ceil(ratio * #valid)`` valid pixels of largest loss.

    Args:
        loss (Tensor): (N, H, W) per-pixel loss.
        valid (Tensor): (N, H, W) bool.
        ratio (float): in (0, 1].

    Returns:
        Tensor: (N, H, W) bool, a subset of ``valid``.
    """
    if ratio >= 1:
        return valid
    k = math.ceil(ratio * int(valid.sum()))
    flat = loss.detach().masked_fill(~valid, float('-inf')).flatten()
    keep = torch.zeros_like(valid).flatten()  # (N * H * W,)
    if k > 0:
        keep[flat.topk(k).indices] = True
    return keep.view_as(valid)


@MODELS.register_module()
class DynamicClassBalancedCELoss(nn.Module):
    """DyCE: softmax CE weighted by the running frequency of its labels.

    ``L = sum_p w[y_p] s_p CE_p / sum_p w[y_p] s_p`` over valid pixels with
    ``w_c = (K f_c)^(omega - 1)`` and ``f`` a bias-corrected EMA of the
    class frequencies of the labels seen, all-reduced over ranks; see the
    module docstring for the formula's relation to SemiDAViL's. Use it as
    ``loss_decode`` of any MMSeg decode head (same call as MMSeg's
    ``CrossEntropyLoss``).

    Args:
        num_classes (int): K, the classes of the head (the size of the
            frequency buffer).
        omega (float): exponent in [0, 1]; weights ``f^(omega - 1)``.
            Defaults to 0.5, SemiDAViL's.
        momentum (float): EMA momentum of the frequencies in [0, 1); 0:
            this forward's frequencies only. Defaults to 0.99.
        min_frequency (float): floor of a class's frequency in the weight,
            in (0, 1]. Defaults to 1e-4.
        hard_ratio (float): share of the valid pixels, those of largest CE,
            the loss averages over, in (0, 1]. Defaults to 1 (all).
        loss_weight (float): multiplier of the loss.
        loss_name (str): key in the loss dict; must start with ``loss_``.
    """

    def __init__(self,
                 num_classes: int,
                 omega: float = 0.5,
                 momentum: float = 0.99,
                 min_frequency: float = 1e-4,
                 hard_ratio: float = 1.0,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_dyce') -> None:
        super().__init__()
        self._loss_name = check_loss_name(loss_name)
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ConfigError(f'DynamicClassBalancedCELoss.num_classes must '
                              f'be a positive int, got {num_classes!r}')
        checks = [
            ('omega', omega, 0 <= omega <= 1, '[0, 1]'),
            ('momentum', momentum, 0 <= momentum < 1, '[0, 1)'),
            ('min_frequency', min_frequency, 0 < min_frequency <= 1,
             '(0, 1]'),
            ('hard_ratio', hard_ratio, 0 < hard_ratio <= 1, '(0, 1]'),
        ]
        for key, value, ok, span in checks:
            if not ok:
                raise ConfigError(f'DynamicClassBalancedCELoss.{key} must be '
                                  f'in {span}, got {value!r}')
        self.num_classes = num_classes
        self.omega = float(omega)
        self.momentum = float(momentum)
        self.min_frequency = float(min_frequency)
        self.hard_ratio = float(hard_ratio)
        self.loss_weight = loss_weight
        #: False inside ``class_weights_off``: unweighted, no update
        self.class_weighting = True
        self.register_buffer('class_frequency',
                             torch.full((num_classes, ), 1.0 / num_classes))
        self.register_buffer('num_updates', torch.zeros((), dtype=torch.long))

    @property
    def loss_name(self) -> str:
        return self._loss_name

    @property
    def current_class_weight(self) -> Tensor:
        """(K,) the weights the next forward starts from (before its own
        labels are counted)."""
        return dyce_class_weight(self.class_frequency, self.omega,
                                 self.min_frequency)

    @torch.no_grad()
    def update_frequency(self, target: Tensor, valid: Tensor) -> None:
        """Fold this forward's valid labels into ``class_frequency``.

        Exactly one ``all_reduce`` on every call, also without a valid
        pixel; the frequencies stay as they are when no rank has one.

        Args:
            target (Tensor): (N, H, W) labels in [0, K).
            valid (Tensor): (N, H, W) bool.
        """
        counts = torch.bincount(
            target[valid], minlength=self.num_classes).double()  # (K,)
        all_reduce(counts, op='sum')  # every rank joins, even with none
        total = counts.sum()
        seen = total > 0
        steps = self.num_updates + seen.long()  # t after this update
        rate = (1.0 - self.momentum) / (
            1.0 - self.momentum**steps.clamp(min=1).double())  # a_t
        freq = self.class_frequency.double()
        updated = freq + rate * (counts / total.clamp(min=1) - freq)
        self.class_frequency.copy_(torch.where(seen, updated, freq))
        self.num_updates.copy_(steps)

    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight: Optional[Tensor] = None,
                ignore_index: int = IGNORE_INDEX,
                **kwargs) -> Tensor:
        """Class-balanced mean cross-entropy; updates the frequencies first
        (training mode, ``class_weighting`` on).

        Args:
            cls_score (Tensor): Logits (N, K, H, W).
            label (Tensor): Labels (N, H, W), long; ``ignore_index`` skipped.
            weight (Tensor, optional): Pixel weights (N, H, W).
            ignore_index (int): Label value that is not a target.

        Returns:
            Tensor: Scalar loss; 0 (with a graph) when no pixel is valid.
        """
        if cls_score.shape[1] != self.num_classes:
            raise ConfigError(
                f'DynamicClassBalancedCELoss has num_classes='
                f'{self.num_classes} but the head predicts '
                f'{cls_score.shape[1]} classes')
        loss, valid, target = pixel_cross_entropy(cls_score, label,
                                                  ignore_index)
        class_weight = None
        if self.class_weighting:
            if self.training:
                self.update_frequency(target, valid)
            class_weight = self.current_class_weight
        mined = hardest_pixels(loss, valid, self.hard_ratio)
        return self.loss_weight * weighted_pixel_mean(
            loss, mined, target, class_weight, weight)
