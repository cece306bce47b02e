"""CutMix for segmentation batches (Yun et al., ICCV 2019; French et al.,
BMVC 2020 for consistency-based semi-supervised segmentation)."""
from typing import Optional, Tuple

import torch
from torch import Tensor


def random_box_masks(num: int,
                     height: int,
                     width: int,
                     area: Tuple[float, float] = (0.02, 0.4),
                     aspect: Tuple[float, float] = (0.3, 1 / 0.3),
                     generator: Optional[torch.Generator] = None,
                     device=None) -> Tensor:
    """One random axis-aligned box per sample.

    Args:
        num (int): number of masks N.
        height (int): H. width (int): W.
        area (tuple[float]): box area as a fraction of H*W, drawn uniformly.
        aspect (tuple[float]): box height/width ratio, drawn log-uniformly.
        generator (torch.Generator, optional): source of randomness.

    Returns:
        Tensor: (N, H, W) bool, True inside the box.
    """
    u = torch.rand(num, 4, generator=generator)
    frac = area[0] + (area[1] - area[0]) * u[:, 0]
    log_lo, log_hi = torch.log(torch.tensor(aspect))
    ratio = torch.exp(log_lo + (log_hi - log_lo) * u[:, 1])
    box_h = (torch.sqrt(frac * height * width * ratio)).clamp(1, height)
    box_w = (torch.sqrt(frac * height * width / ratio)).clamp(1, width)
    top = (u[:, 2] * (height - box_h + 1)).floor().clamp(min=0)
    left = (u[:, 3] * (width - box_w + 1)).floor().clamp(min=0)
    rows = torch.arange(height).view(1, height, 1)
    cols = torch.arange(width).view(1, 1, width)
    masks = ((rows >= top.view(-1, 1, 1)) &
             (rows < (top + box_h.round()).view(-1, 1, 1)) &
             (cols >= left.view(-1, 1, 1)) &
             (cols < (left + box_w.round()).view(-1, 1, 1)))
    return masks.to(device) if device is not None else masks


def cutmix(
    images: Tensor,
    targets: Tuple[Tensor, ...],
    prob: float,
    generator: Optional[torch.Generator] = None
) -> Tuple[Tensor, Tuple[Tensor, ...], Tensor]:
    """Paste a box of another sample of the batch into each sample.

    With probability ``prob`` per sample i, the pixels of a random box are
    taken from sample ``perm[i]`` in the images and in every target map, so
    images and their (pseudo) labels stay consistent.

    Args:
        images (Tensor): (B, C, H, W).
        targets (tuple[Tensor]): maps of shape (B, H, W) mixed the same way
            (e.g. pseudo labels and their confidence).
        prob (float): probability that a sample is mixed, in [0, 1].
        generator (torch.Generator, optional): source of randomness.

    Returns:
        tuple: mixed images (B, C, H, W), mixed targets, and the paste masks
        (B, H, W) bool (all False for samples left unmixed).
    """
    b, _, h, w = images.shape
    masks = random_box_masks(
        b, h, w, generator=generator, device=images.device)
    apply = (torch.rand(b, generator=generator) < prob).to(images.device)
    # partner j != i for every i (a sample pasted onto itself is no mix)
    shift = int(torch.randint(1, max(b, 2), (1, ), generator=generator))
    perm = (torch.arange(b, device=images.device) + shift) % b
    masks = masks & apply.view(-1, 1, 1)
    mixed = torch.where(masks[:, None], images[perm], images)
    mixed_targets = tuple(torch.where(masks, t[perm], t) for t in targets)
    return mixed, mixed_targets, masks
