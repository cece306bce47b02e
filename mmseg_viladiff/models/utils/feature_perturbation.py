"""Feature perturbation of UniMatch (Yang et al., "Revisiting Weak-to-Strong
Consistency in Semi-Supervised Semantic Segmentation", CVPR 2023): channel
dropout on the features a decode head reads."""
from typing import Sequence, Tuple

import torch.nn.functional as F
from torch import Tensor


def feature_dropout(feats: Sequence[Tensor],
                    p: float = 0.5,
                    training: bool = True) -> Tuple[Tensor, ...]:
    """Channel dropout (``Dropout2d``) on every level of a feature pyramid.

    Each channel of each sample is zeroed with probability ``p``,
    independently per level; the kept channels are scaled by 1 / (1 - p),
    so a channel's expected value is unchanged. UniMatch applies
    ``nn.Dropout2d(0.5)`` to each level its decoder reads.

    Args:
        feats (Sequence[Tensor]): the levels, (B, C_l, H_l, W_l) each.
        p (float): drop probability in [0, 1).
        training (bool): False (or p = 0) returns the levels unchanged.

    Returns:
        tuple[Tensor]: the perturbed levels, (B, C_l, H_l, W_l) each.
    """
    if not 0 <= p < 1:
        raise ValueError(f'feature dropout p must be in [0, 1), got {p}')
    for level, f in enumerate(feats):
        if f.dim() != 4:
            raise ValueError(f'feature dropout needs (B, C, H, W) levels; '
                             f'level {level} has shape {tuple(f.shape)}')
    if not training or p == 0:
        return tuple(feats)
    return tuple(F.dropout2d(f, p, training=True) for f in feats)
