"""Forward passes whose losses ignore their per-class weights."""
from contextlib import contextmanager
from typing import Iterator

import torch.nn as nn
from mmseg.models.losses import CrossEntropyLoss

from ..losses import ClassBalancedCrossEntropyLoss

#: loss modules whose ``class_weight`` attribute weights the classes
WEIGHTED_LOSSES = (ClassBalancedCrossEntropyLoss, CrossEntropyLoss)


@contextmanager
def class_weights_off(module: nn.Module) -> Iterator[None]:
    """Compute every class-weighted loss of ``module`` unweighted inside the
    block.

    Each :data:`WEIGHTED_LOSSES` module of ``module`` with a
    ``class_weight`` gets ``class_weight=None`` (plain cross-entropy, the
    mean over valid pixels) for the duration of the block; the weights are
    restored on exit, also when the block raises. The semi-supervised
    segmentor uses it for the loss on pseudo labels, whose rare classes are
    the least precise ones: median-frequency weights would multiply exactly
    those errors.

    Args:
        module (nn.Module): model whose loss modules to switch.
    """
    saved = [(m, m.class_weight) for m in module.modules()
             if isinstance(m, WEIGHTED_LOSSES)
             and getattr(m, 'class_weight', None) is not None]
    try:
        for m, _ in saved:
            m.class_weight = None
        yield
    finally:
        for m, weight in saved:
            m.class_weight = weight
