"""Cross-image distillation losses between labeled and unlabeled features.

Cross-Image Distillation for Semi-Supervised Semantic Segmentation (seed
004; code unreleased) names two losses: "relation distillation" modelling
inter-channel correlations between features of labeled and unlabeled
samples, and "style distillation" calibrating the feature distributions of
labeled and unlabeled data to be aligned. This project reads them as
follows (docs/method.md, "Cross-image distillation"). For a feature map
``F_b`` (C, H, W) of sample b, flattened to (C, HW):

- relation: ``G_b = N(F_b) N(F_b)^T`` (C, C), where ``N`` L2-normalises each
  channel's HW responses, so ``G_b[i, j]`` is the cosine similarity of
  channels i and j over the image; each set S (labeled L, unlabeled U)
  gets ``R_S = mean_{b in S} G_b`` and
  ``L_rel = 1/C^2 * ||R_U - sg(R_L)||_F^2``;
- style: per sample the channel mean ``mu_b`` and standard deviation
  ``sigma_b`` over its HW positions (instance statistics, the "style" of
  AdaIN, Huang & Belongie 2017), averaged over each set;
  ``L_style = 1/C * (||mu_U - sg(mu_L)||^2 + ||sigma_U - sg(sigma_L)||^2)``.

``sg`` (stop-gradient) is on the labeled side by default (``detach=
'labeled'``): the labeled features, trained on true labels from weakly
augmented crops, are the reference that the unlabeled (strongly augmented,
pseudo-labelled) features are pulled to. ``'unlabeled'`` reverses it
(the reading where the scarce labeled set is the biased one), ``'none'``
moves both. Both losses are zero for identical sets, invariant to the
order of samples within each set (set means), and need no collective:
they use the statistics of the sets on this GPU's batch, as BN does.
"""
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from ...utils.errors import ConfigError
from .class_balanced_cross_entropy import check_loss_name

#: which set's statistics are the (gradient-free) reference
DETACH_MODES = ('labeled', 'unlabeled', 'none')


def channel_relation(feats: Tensor, eps: float = 1e-12) -> Tensor:
    """Inter-channel cosine similarity of each sample.

    Args:
        feats (Tensor): (B, C, H, W).
        eps (float): guards the norm of an all-zero channel.

    Returns:
        Tensor: (B, C, C), entries in [-1, 1], diagonal 1 (0 for an
        all-zero channel).
    """
    flat = feats.flatten(2)  # (B, C, HW)
    flat = F.normalize(flat, dim=2, eps=eps)  # unit norm per channel
    return flat @ flat.transpose(1, 2)  # (B, C, C)


def channel_style(feats: Tensor, eps: float = 1e-6) -> Tuple[Tensor, Tensor]:
    """Channel mean and standard deviation of each sample.

    Args:
        feats (Tensor): (B, C, H, W).
        eps (float): added to the variance before the square root (finite
            gradient for a constant channel).

    Returns:
        tuple[Tensor]: mean (B, C) and std (B, C) over the H x W positions.
    """
    flat = feats.flatten(2)  # (B, C, HW)
    var, mean = torch.var_mean(flat, dim=2, unbiased=False)  # (B, C) each
    return mean, (var + eps).sqrt()


class _SetDistillLoss(nn.Module):
    """Shared arguments, checks and stop-gradient of the two losses."""

    def __init__(self, loss_weight: float, detach: str,
                 loss_name: str) -> None:
        super().__init__()
        self._loss_name = check_loss_name(loss_name)
        if detach not in DETACH_MODES:
            raise ConfigError(f'{type(self).__name__}.detach must be one of '
                              f'{DETACH_MODES}, got {detach!r}')
        if loss_weight < 0:
            raise ConfigError(f'{type(self).__name__}.loss_weight must be '
                              f'>= 0, got {loss_weight!r}')
        self.loss_weight = loss_weight
        self.detach = detach

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def _sets(self, labeled: Tensor,
              unlabeled: Tensor) -> Tuple[Tensor, Tensor]:
        """Both sets as float (B_S, C, H, W), the reference detached."""
        if labeled.dim() != 4 or unlabeled.dim() != 4 or \
                labeled.shape[1] != unlabeled.shape[1]:
            raise ValueError(
                f'{type(self).__name__} needs two (B, C, H, W) feature maps '
                f'of the same C, got {tuple(labeled.shape)} and '
                f'{tuple(unlabeled.shape)}')
        if labeled.shape[0] == 0 or unlabeled.shape[0] == 0:
            raise ValueError(f'{type(self).__name__} needs at least one '
                             'labeled and one unlabeled sample')
        labeled, unlabeled = labeled.float(), unlabeled.float()
        if self.detach == 'labeled':
            labeled = labeled.detach()
        elif self.detach == 'unlabeled':
            unlabeled = unlabeled.detach()
        return labeled, unlabeled


@MODELS.register_module()
class RelationDistillLoss(_SetDistillLoss):
    """Relation distillation: match the set-averaged channel x channel
    cosine-similarity matrices of labeled and unlabeled features.

    ``L = loss_weight / C^2 * ||mean_{b in U} G_b - mean_{b in L} G_b||_F^2``
    with ``G_b = N(F_b) N(F_b)^T`` (:func:`channel_relation`), the side
    named by ``detach`` under stop-gradient. Reading of seed 004's
    relation distillation module; see the module docstring.

    Args:
        loss_weight (float): multiplier of the loss.
        detach (str): the reference side without gradient: 'labeled'
            (default), 'unlabeled' or 'none'.
        loss_name (str): key in the loss dict; must start with ``loss_``.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 detach: str = 'labeled',
                 loss_name: str = 'loss_relation') -> None:
        super().__init__(loss_weight, detach, loss_name)

    def forward(self, labeled: Tensor, unlabeled: Tensor) -> Tensor:
        """
        Args:
            labeled (Tensor): (B_l, C, H, W) features of the labeled set.
            unlabeled (Tensor): (B_u, C, H', W') of the unlabeled set.

        Returns:
            Tensor: scalar loss.
        """
        labeled, unlabeled = self._sets(labeled, unlabeled)
        r_l = channel_relation(labeled).mean(dim=0)  # (C, C)
        r_u = channel_relation(unlabeled).mean(dim=0)  # (C, C)
        return self.loss_weight * (r_u - r_l).pow(2).mean()


@MODELS.register_module()
class StyleDistillLoss(_SetDistillLoss):
    """Style distillation: match the set-averaged channel means and standard
    deviations of labeled and unlabeled features.

    ``L = loss_weight * (mean_c (mu_U - mu_L)^2 + mean_c (sigma_U -
    sigma_L)^2)`` with ``mu_S``, ``sigma_S`` (C,) the per-sample channel
    statistics (:func:`channel_style`) averaged over set S, the side named
    by ``detach`` under stop-gradient. Reading of seed 004's style
    distillation; see the module docstring.

    Args:
        loss_weight (float): multiplier of the loss.
        detach (str): the reference side without gradient: 'labeled'
            (default), 'unlabeled' or 'none'.
        loss_name (str): key in the loss dict; must start with ``loss_``.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 detach: str = 'labeled',
                 loss_name: str = 'loss_style') -> None:
        super().__init__(loss_weight, detach, loss_name)

    def forward(self, labeled: Tensor, unlabeled: Tensor) -> Tensor:
        """
        Args:
            labeled (Tensor): (B_l, C, H, W) features of the labeled set.
            unlabeled (Tensor): (B_u, C, H', W') of the unlabeled set.

        Returns:
            Tensor: scalar loss.
        """
        labeled, unlabeled = self._sets(labeled, unlabeled)
        mu_l, sigma_l = (s.mean(dim=0) for s in channel_style(labeled))
        mu_u, sigma_u = (s.mean(dim=0) for s in channel_style(unlabeled))
        return self.loss_weight * (F.mse_loss(mu_u, mu_l) +
                                   F.mse_loss(sigma_u, sigma_l))
