"""Cross-entropy with per-class weights that tolerates ignored pixels.

MMSeg 1.2.2's ``CrossEntropyLoss(class_weight=...)`` computes its average
factor by indexing ``class_weight`` with the raw label map, so any batch that
holds an ignored (255) or padded pixel raises ``IndexError: index 255 is out
of bounds`` (open upstream: mmsegmentation issues #3734, #3831, #3492). This
loss averages the way :func:`torch.nn.functional.cross_entropy` does with
``weight``: the sum of ``w[y_p] * CE_p`` over valid pixels divided by the sum
of ``w[y_p]``, so a uniform weight vector gives plain CE over valid pixels.
"""
import json
import os.path as osp
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from ...utils.constants import IGNORE_INDEX
from ...utils.errors import ConfigError


def check_loss_name(loss_name: str) -> str:
    """``loss_name`` if it starts with ``loss_`` (MMSeg sums only such keys
    into the total loss), else a ConfigError."""
    if not loss_name.startswith('loss_'):
        raise ConfigError(
            f"loss_name must start with 'loss_', got {loss_name!r}")
    return loss_name


def pixel_cross_entropy(cls_score: Tensor, label: Tensor,
                        ignore_index: int) -> Tuple[Tensor, Tensor, Tensor]:
    """Per-pixel softmax cross-entropy that tolerates ignored labels.

    Args:
        cls_score (Tensor): Logits (N, K, H, W).
        label (Tensor): Labels (N, H, W), long.
        ignore_index (int): Label value that is not a target.

    Returns:
        tuple[Tensor]: CE (N, H, W) (the CE of class 0 on ignored pixels:
        mask it), valid (N, H, W) bool, and the target (N, H, W) with
        ignored pixels set to 0, safe to index per-class tables with.
    """
    valid = label != ignore_index  # (N, H, W)
    target = torch.where(valid, label, torch.zeros_like(label))
    loss = F.cross_entropy(cls_score, target, reduction='none')
    return loss, valid, target


def weighted_pixel_mean(loss: Tensor,
                        valid: Tensor,
                        target: Tensor,
                        class_weight: Optional[Tensor] = None,
                        weight: Optional[Tensor] = None) -> Tensor:
    """sum_p w[y_p] * s_p * loss_p / sum_p w[y_p] * s_p over valid pixels.

    Args:
        loss (Tensor): Per-pixel loss (N, H, W).
        valid (Tensor): (N, H, W) bool, the pixels that count.
        target (Tensor): (N, H, W) labels, any class on invalid pixels.
        class_weight (Tensor, optional): (K,) class weights w; None: all 1.
        weight (Tensor, optional): (N, H, W) pixel weights s; None: all 1.

    Returns:
        Tensor: Scalar; 0 (with a graph) when no pixel is valid.
    """
    pixel_w = valid.to(loss.dtype)
    if class_weight is not None:
        pixel_w = pixel_w * class_weight.to(loss.dtype)[target]
    if weight is not None:
        pixel_w = pixel_w * weight.to(loss.dtype)
    return (loss * pixel_w).sum() / pixel_w.sum().clamp(min=1e-12)


def load_class_weight(
        class_weight: Union[str, Sequence[float]]) -> Sequence[float]:
    """Class weights from a list, or a JSON file written by
    ``tools/class_weights.py`` (key ``class_weight``; other keys record how
    the weights were computed).

    Raises:
        ConfigError: the file is missing or has no valid ``class_weight``
            list; the message names the file.
    """
    if not isinstance(class_weight, str):
        return [float(w) for w in class_weight]
    if not osp.isfile(class_weight):
        raise ConfigError(
            f'class_weight file {class_weight} does not exist (paths are '
            'relative to the working directory; write it with '
            'tools/class_weights.py CONFIG --out FILE)')
    try:
        with open(class_weight) as f:
            weights = json.load(f)['class_weight']
        return [float(w) for w in weights]
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError(f'{class_weight}: expected a JSON object with a '
                          f"'class_weight' list of numbers ({e!r})") from e


@MODELS.register_module()
class ClassBalancedCrossEntropyLoss(nn.Module):
    """Softmax cross-entropy with per-class weights, mean over valid pixels.

    loss = sum_p w[y_p] * s_p * CE_p / sum_p w[y_p] * s_p over pixels p whose
    label is not ``ignore_index``, with s_p the optional pixel weights. Use
    it as ``loss_decode`` of any MMSeg decode head.

    Args:
        class_weight (str | Sequence[float], optional): K weights, or the
            path of a JSON file from ``tools/class_weights.py``. None: all 1
            (plain CE averaged over valid pixels).
        loss_weight (float): Multiplier of the loss.
        loss_name (str): Key in the loss dict; must start with ``loss_``.
    """

    def __init__(self,
                 class_weight: Optional[Union[str, Sequence[float]]] = None,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_ce') -> None:
        super().__init__()
        check_loss_name(loss_name)
        self.class_weight_source = class_weight
        weight = None if class_weight is None else torch.tensor(
            load_class_weight(class_weight), dtype=torch.float)
        if weight is not None and (weight.ndim != 1 or (weight < 0).any()):
            raise ConfigError(f'class_weight must be K non-negative numbers, '
                              f'got {class_weight!r}')
        self.register_buffer('class_weight', weight, persistent=False)
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight: Optional[Tensor] = None,
                ignore_index: int = IGNORE_INDEX,
                **kwargs) -> Tensor:
        """Weighted mean cross-entropy.

        Args:
            cls_score (Tensor): Logits (N, K, H, W).
            label (Tensor): Labels (N, H, W), long; ``ignore_index`` skipped.
            weight (Tensor, optional): Pixel weights (N, H, W).
            ignore_index (int): Label value that is not a target.

        Returns:
            Tensor: Scalar loss; 0 (with a graph) when no pixel is valid.
        """
        num_classes = cls_score.shape[1]
        class_weight = self.class_weight
        if class_weight is not None and class_weight.numel() != num_classes:
            raise ConfigError(
                f'class_weight has {class_weight.numel()} entries '
                f'({self.class_weight_source!r}) but the head predicts '
                f'{num_classes} classes')
        loss, valid, target = pixel_cross_entropy(cls_score, label,
                                                  ignore_index)
        return self.loss_weight * weighted_pixel_mean(
            loss, valid, target, class_weight, weight)
