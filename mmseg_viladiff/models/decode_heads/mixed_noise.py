"""Edge-aware mixed-noise diffusion: the forward process and one reverse step.

Pure, stateless functions (the schedule is passed in as tensors, typically
held in a head's buffers). The project's reading of ViLaDiff (Yang et al.,
AAAI 2026), see DESIGN.md point 4:

* features get Gaussian noise ``f_t = sqrt(a_t) f + sqrt(1 - a_t) s eps``
  (DDPM, Ho et al., 2020; DDP, Ji et al., ICCV 2023);
* the mask gets class flipping: each pixel is replaced by a class drawn from
  a flip distribution with probability ``b_t(p) = min(1, b_t (1 + g E(p)))``,
  ``E`` a band around label edges (categorical forward process as in
  multinomial diffusion, Hoogeboom et al., 2021, and DDPS, Zhang et al.);
* ``b_t = 1 - a_t``, so t = 0 changes nothing and t = T replaces (almost)
  every pixel.

What the denoiser reads (issue 14): :func:`mix_mask` is the expectation of
the flipped one-hot mask, ``(1 - b_t(p)) onehot(y) + b_t(p) q``, the same
kind of soft mask :func:`reverse_step` hands it at inference (at t = T with
``q`` the first head's softmax, exactly that softmax);
:func:`perturb_features_vp` adds variance-preserving noise to unit-RMS
features (:func:`unit_rms`), so no learnable scale before it can raise the
signal above the noise, and clean features at inference have the moments
of noisy ones.

Shapes: B batch, K classes, C channels, H x W pixels; ``t`` is a (B,) long
tensor of steps in [0, T]; schedules are (T + 1,) tensors indexed by t.
"""
import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from ...utils.constants import IGNORE_INDEX


def alpha_bar_schedule(num_steps: int,
                       kind: str = 'cosine',
                       beta_range=(1e-4, 0.02)) -> Tensor:
    """Cumulative signal rates ``a_t`` for t = 0..T, with ``a_0 = 1``.

    Args:
        num_steps (int): T >= 1.
        kind (str): 'cosine' (Nichol & Dhariwal, 2021) or 'linear' (Ho et
            al., 2020, betas linearly spaced in ``beta_range``).

    Returns:
        Tensor: (T + 1,) float64, decreasing from 1.
    """
    if num_steps < 1:
        raise ValueError(f'num_steps must be >= 1, got {num_steps}')
    steps = torch.arange(num_steps + 1, dtype=torch.float64)
    if kind == 'cosine':
        s = 0.008
        f = torch.cos((steps / num_steps + s) / (1 + s) * math.pi / 2)**2
        alpha_bar = (f / f[0]).clamp(min=1e-5)
    elif kind == 'linear':
        betas = torch.linspace(*beta_range, num_steps, dtype=torch.float64)
        alpha_bar = torch.cat(
            [torch.ones(1, dtype=torch.float64),
             torch.cumprod(1 - betas, 0)])
    else:
        raise ValueError(f"kind must be 'cosine' or 'linear', got {kind!r}")
    return alpha_bar


def perturb_features(feats: Tensor,
                     t: Tensor,
                     alpha_bar: Tensor,
                     scale: float = 1.0,
                     noise: Optional[Tensor] = None) -> Tensor:
    """Gaussian feature noise ``sqrt(a_t) f + sqrt(1 - a_t) * scale * eps``.

    Args:
        feats (Tensor): (B, C, H, W).
        t (Tensor): (B,) long steps.
        alpha_bar (Tensor): (T + 1,) schedule.
        scale (float): noise scale s.
        noise (Tensor, optional): eps, (B, C, H, W); drawn if None.

    Returns:
        Tensor: (B, C, H, W) noisy features.
    """
    a = alpha_bar.to(feats)[t].view(-1, 1, 1, 1)  # (B, 1, 1, 1)
    if noise is None:
        noise = torch.randn_like(feats)
    return a.sqrt() * feats + (1 - a).sqrt() * scale * noise


def edge_band(labels: Tensor,
              width: int = 1,
              ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Pixels within ``width`` of a label edge: max-pool != min-pool.

    Ignored pixels neither make edges nor belong to the band.

    Args:
        labels (Tensor): (B, H, W) long.
        width (int): band half-width; the window is (2 w + 1)^2.

    Returns:
        Tensor: (B, H, W) bool.
    """
    valid = labels != ignore_index
    x = labels.float()[:, None]  # (B, 1, H, W)
    k, pad = 2 * width + 1, width
    hi = F.max_pool2d(
        torch.where(valid[:, None], x, torch.full_like(x, -1.)),
        k,
        stride=1,
        padding=pad)
    big = float(labels[valid].max().item() + 1) if valid.any() else 1.
    lo = -F.max_pool2d(
        -torch.where(valid[:, None], x, torch.full_like(x, big)),
        k,
        stride=1,
        padding=pad)
    # padding of max_pool2d is -inf, so borders of the image are no edges
    return (hi != lo)[:, 0] & valid


def flip_probability(t: Tensor,
                     flip_rate: Tensor,
                     edges: Tensor,
                     edge_gain: float = 1.0) -> Tensor:
    """``b_t(p) = min(1, b_t (1 + g E(p)))`` per pixel.

    Args:
        t (Tensor): (B,) long steps.
        flip_rate (Tensor): (T + 1,) b_t, e.g. ``1 - alpha_bar``.
        edges (Tensor): (B, H, W) bool edge band E.
        edge_gain (float): g >= 0.

    Returns:
        Tensor: (B, H, W) probabilities.
    """
    b = flip_rate.to(torch.float32).to(edges.device)[t].view(-1, 1, 1)
    return (b * (1 + edge_gain * edges.float())).clamp(max=1.0)


def flip_classes(labels: Tensor,
                 prob: Tensor,
                 num_classes: int,
                 flip_dist: Optional[Tensor] = None,
                 ignore_index: int = IGNORE_INDEX,
                 generator: Optional[torch.Generator] = None) -> Tensor:
    """Replace each pixel, with probability ``prob``, by a drawn class.

    Args:
        labels (Tensor): (B, H, W) long.
        prob (Tensor): (B, H, W) replacement probability.
        num_classes (int): K.
        flip_dist (Tensor, optional): (B, K, H, W) per-pixel class
            distribution to draw from (e.g. the teacher's softmax, to model
            its confusions); uniform over K if None.
        ignore_index (int): these pixels are never replaced.
        generator (torch.Generator, optional): for reproducible noise.

    Returns:
        Tensor: (B, H, W) long corrupted labels.
    """
    b, h, w = labels.shape
    u = torch.rand(b, h, w, generator=generator, device=labels.device)
    replace = (u < prob) & (labels != ignore_index)
    if flip_dist is None:
        drawn = torch.randint(
            0,
            num_classes, (b, h, w),
            generator=generator,
            device=labels.device)
    else:
        probs = flip_dist.permute(0, 2, 3, 1).reshape(-1, num_classes)
        drawn = torch.multinomial(probs, 1, generator=generator).view(b, h, w)
    return torch.where(replace, drawn, labels)


def corrupt_mask(labels: Tensor,
                 t: Tensor,
                 flip_rate: Tensor,
                 num_classes: int,
                 edge_gain: float = 1.0,
                 edge_width: int = 1,
                 flip_dist: Optional[Tensor] = None,
                 ignore_index: int = IGNORE_INDEX,
                 generator: Optional[torch.Generator] = None) -> Tensor:
    """The mask half of the forward process at step ``t`` (edge-aware).

    Returns:
        Tensor: (B, H, W) long noisy labels.
    """
    edges = edge_band(labels, edge_width, ignore_index)
    prob = flip_probability(t, flip_rate, edges, edge_gain)
    return flip_classes(labels, prob, num_classes, flip_dist, ignore_index,
                        generator)


def reverse_step(clean_probs: Tensor,
                 t_prev: Tensor,
                 flip_rate: Tensor,
                 flip_dist: Optional[Tensor] = None) -> Tensor:
    """One deterministic (DDIM-like) denoising step for the mask.

    Given the head's estimate of the clean mask, returns the expected noisy
    mask at the earlier step ``t_prev``:
    ``(1 - b_{t_prev}) p0 + b_{t_prev} q`` (soft, per pixel), which the head
    reads at the next step; ``t_prev = 0`` returns ``p0``. Edge gain is not
    applied here: at inference the true edges are unknown.

    Args:
        clean_probs (Tensor): (B, K, H, W) predicted clean class probs p0.
        t_prev (Tensor): (B,) long.
        flip_rate (Tensor): (T + 1,) b_t.
        flip_dist (Tensor, optional): (B, K, H, W) q; uniform if None.

    Returns:
        Tensor: (B, K, H, W) probabilities.
    """
    k = clean_probs.shape[1]
    b = flip_rate.to(clean_probs)[t_prev].view(-1, 1, 1, 1)
    q = torch.full_like(clean_probs, 1.0 / k) if flip_dist is None else \
        flip_dist
    return (1 - b) * clean_probs + b * q


def mix_mask(labels: Tensor,
             t: Tensor,
             flip_rate: Tensor,
             num_classes: int,
             edge_gain: float = 1.0,
             edge_width: int = 1,
             flip_dist: Optional[Tensor] = None,
             ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Soft noisy mask: the expectation of :func:`corrupt_mask`'s one-hot.

    ``m_t(p) = (1 - b_t(p)) onehot(y_p) + b_t(p) q_p`` with the edge-aware
    ``b_t(p)`` of :func:`flip_probability`. At t = T (``b_T ~ 1``) it is
    ``q``; with ``q`` the first head's softmax that is what refinement
    starts from. Ignored pixels get ``q`` (what inference would read there).

    Args:
        labels (Tensor): (B, H, W) long.
        t (Tensor): (B,) long steps.
        flip_rate (Tensor): (T + 1,) b_t.
        num_classes (int): K.
        edge_gain (float): g.
        edge_width (int): band half-width of the edges E.
        flip_dist (Tensor, optional): (B, K, H, W) q; uniform if None.

    Returns:
        Tensor: (B, K, H, W) float, each pixel a distribution over K.
    """
    valid = labels != ignore_index  # (B, H, W)
    edges = edge_band(labels, edge_width, ignore_index)
    prob = flip_probability(t, flip_rate, edges, edge_gain)  # (B, H, W)
    prob = torch.where(valid, prob, torch.ones_like(prob))
    onehot = F.one_hot(
        labels.clamp(max=num_classes - 1),
        num_classes).permute(0, 3, 1, 2).to(prob)  # (B, K, H, W)
    if flip_dist is None:
        q = torch.full_like(onehot, 1.0 / num_classes)
    else:
        q = flip_dist.to(prob)
    b = prob[:, None]  # (B, 1, H, W)
    return (1 - b) * onehot + b * q


def unit_rms(feats: Tensor, eps: float = 1e-6) -> Tensor:
    """Divide each pixel's feature vector by its root mean square over
    channels: (B, C, H, W) -> (B, C, H, W) with ``mean_c f^2 = 1``
    (parameter-free, so nothing learnable can scale it)."""
    rms = feats.pow(2).mean(dim=1, keepdim=True).add(eps).sqrt()
    return feats / rms


def perturb_features_vp(feats: Tensor,
                        t: Tensor,
                        alpha_bar: Tensor,
                        max_noise: float = 0.5,
                        noise: Optional[Tensor] = None) -> Tensor:
    """Variance-preserving feature noise with a bounded noise share.

    ``f_t = sqrt(1 - s^2 (1 - a_t)) f + s sqrt(1 - a_t) eps``: with
    ``s = max_noise = 1`` this is ``perturb_features`` at scale 1 (pure
    noise at t = T); with s < 1 a share ``1 - s^2`` of the signal's variance
    survives every step. For unit-RMS ``f`` (:func:`unit_rms`) the output
    keeps ``E[f_t^2] = 1`` at every t, so the clean features read at
    inference have the second moment the network saw in training.

    Args:
        feats (Tensor): (B, C, H, W), typically unit-RMS.
        t (Tensor): (B,) long steps.
        alpha_bar (Tensor): (T + 1,) schedule.
        max_noise (float): s in [0, 1], the noise's share of the standard
            deviation at t = T.
        noise (Tensor, optional): eps, (B, C, H, W); drawn if None.

    Returns:
        Tensor: (B, C, H, W) noisy features.
    """
    if not 0 <= max_noise <= 1:
        raise ValueError(f'max_noise must be in [0, 1], got {max_noise}')
    var = max_noise**2 * (1 - alpha_bar.to(feats)[t]).view(-1, 1, 1, 1)
    if noise is None:
        noise = torch.randn_like(feats)
    return (1 - var).sqrt() * feats + var.sqrt() * noise
