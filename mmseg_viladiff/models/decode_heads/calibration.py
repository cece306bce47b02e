"""Temperature scaling of segmentation logits (Guo et al., ICML 2017).

A refined softmax that passes the same fixed threshold as the first head
must mean the same thing: with a temperature fitted on labeled pixels,
``softmax(logits / T)`` is calibrated in the NLL sense. The fit is a grid
search (no optimiser state, deterministic, cheap on a few thousand pixels).
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from ...utils.constants import IGNORE_INDEX

#: temperatures tried by :func:`fit_temperature`: 0.25 .. 8, geometric
TEMPERATURE_GRID = torch.logspace(-2, 3, 61, base=2.0)


def fit_temperature(logits: Tensor,
                    labels: Tensor,
                    ignore_index: int = IGNORE_INDEX,
                    grid: Optional[Tensor] = None,
                    max_pixels: int = 65536) -> Optional[float]:
    """The temperature of ``grid`` with the least NLL on valid pixels.

    Args:
        logits (Tensor): (B, K, H, W).
        labels (Tensor): (B, H, W) long, ``ignore_index`` where unknown.
        ignore_index (int): label of ignored pixels.
        grid (Tensor, optional): (G,) candidate temperatures; defaults to
            :data:`TEMPERATURE_GRID`.
        max_pixels (int): at most this many valid pixels, evenly strided.

    Returns:
        float | None: the fitted T, None when no pixel is valid.
    """
    k = logits.shape[1]
    flat = logits.detach().permute(0, 2, 3, 1).reshape(-1, k)  # (P, K)
    target = labels.reshape(-1)  # (P,)
    valid = target != ignore_index
    flat, target = flat[valid].float(), target[valid]
    if target.numel() == 0:
        return None
    step = max(1, target.numel() // max_pixels)
    flat, target = flat[::step], target[::step]
    grid = (TEMPERATURE_GRID if grid is None else grid).to(flat)
    nll = torch.stack(
        [F.cross_entropy(flat / temp, target) for temp in grid])  # (G,)
    return float(grid[nll.argmin()])
