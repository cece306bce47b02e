"""Forward passes whose losses ignore their per-class weights."""
from contextlib import contextmanager
from typing import Iterator

import torch.nn as nn
from mmseg.models.losses import CrossEntropyLoss

from ..losses import ClassBalancedCrossEntropyLoss, DynamicClassBalancedCELoss

#: loss modules whose ``class_weight`` attribute weights the classes
WEIGHTED_LOSSES = (ClassBalancedCrossEntropyLoss, CrossEntropyLoss)
#: loss modules whose ``class_weighting`` flag switches their running class
#: weights (and the update of the frequencies behind them)
DYNAMIC_WEIGHTED_LOSSES = (DynamicClassBalancedCELoss, )


@contextmanager
def class_weights_off(module: nn.Module) -> Iterator[None]:
    """Compute every class-weighted loss of ``module`` unweighted inside the
    block.

    Each :data:`WEIGHTED_LOSSES` module of ``module`` with a
    ``class_weight`` gets ``class_weight=None`` (plain cross-entropy, the
    mean over valid pixels) for the duration of the block; each
    :data:`DYNAMIC_WEIGHTED_LOSSES` module (DyCE) gets
    ``class_weighting=False``: unweighted, and the labels it sees inside the
    block are not counted into its running class frequencies. Everything is
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
    dynamic = [(m, m.class_weighting) for m in module.modules()
               if isinstance(m, DYNAMIC_WEIGHTED_LOSSES)]
    try:
        for m, _ in saved:
            m.class_weight = None
        for m, _ in dynamic:
            m.class_weighting = False
        yield
    finally:
        for m, weight in saved:
            m.class_weight = weight
        for m, flag in dynamic:
            m.class_weighting = flag
