"""Pseudo labels from a first and a refined prediction.

Two ways to give refined pseudo labels a confidence that means what it
says (issue 14):

* ``'refined'``: the refined class and the refined softmax's confidence
  (calibrated by the refining head's temperature, see
  ``EdgeAwareMixDiffusionHead(calibrate=True)``);
* ``'first'``: the first head's confidence selects the pixels (so a fixed
  threshold keeps the first head's coverage), and the label is the refined
  class where the refined confidence is >= ``min_confidence``, else the
  first head's class: refinement may only change labels, where it is sure.
"""
from typing import Tuple

from torch import Tensor

#: values of ``semi_train_cfg.refined_confidence``
REFINED_CONFIDENCE_MODES = ('refined', 'first')


def select_refined(first_probs: Tensor,
                   refined_probs: Tensor,
                   mode: str = 'refined',
                   min_confidence: float = 0.5
                   ) -> Tuple[Tensor, Tensor, Tensor]:
    """Combine the two predictions into pseudo labels.

    Args:
        first_probs (Tensor): (B, K, H, W) first head's softmax.
        refined_probs (Tensor): (B, K, H, W) refined softmax.
        mode (str): 'refined' or 'first' (see the module docstring).
        min_confidence (float): 'first': the refined confidence needed to
            replace the first head's class.

    Returns:
        tuple[Tensor]: the probabilities whose statistics per-class
        thresholds read (B, K, H, W), labels (B, H, W) long and confidence
        (B, H, W).
    """
    if mode not in REFINED_CONFIDENCE_MODES:
        raise ValueError(f'mode must be one of {REFINED_CONFIDENCE_MODES}, '
                         f'got {mode!r}')
    refined_conf, refined_labels = refined_probs.max(dim=1)
    if mode == 'refined':
        return refined_probs, refined_labels, refined_conf
    first_conf, first_labels = first_probs.max(dim=1)
    labels = first_labels.where(refined_conf < min_confidence,
                                refined_labels)
    return first_probs, labels, first_conf
