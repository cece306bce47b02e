"""Cross-image feature distillation inside the semi-supervised loop."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmseg.registry import MODELS
from torch import Tensor

from ...utils.errors import ConfigError
from .bn_stats import frozen_bn_stats

#: captured backbone calls kept between two distillation steps (oldest
#: dropped), so student forwards outside the semi loop cannot pile up
MAX_RECORDS = 8


class FeatureDistiller(nn.Module):
    """Applies set-to-set feature losses (e.g. ``RelationDistillLoss``,
    ``StyleDistillLoss``) to the student's backbone features of the labeled
    batch and of the unlabeled batch.

    No second backbone pass: a forward hook on the student's backbone keeps
    the outputs of the backbone calls made in training mode with gradients
    on, and :meth:`forward` picks those whose input *is* (same tensor
    object) the labeled or unlabeled batch, so the losses' gradients flow
    through the same graph as the segmentation losses. A batch whose
    forward was not captured (a segmentor subclass that feeds the backbone
    a different tensor) gets one extra backbone pass, with BN running
    statistics frozen, and a warning in the log once. The captured outputs
    are released at every :meth:`forward` (at most :data:`MAX_RECORDS` are
    kept in between).

    Args:
        losses (Sequence[dict]): configs of loss modules in ``MODELS``
            called as ``loss(labeled, unlabeled)`` on (B, C, H, W) features
            and having a ``loss_name`` that starts with ``loss_``.
        level (int): index into the backbone's outputs (``out_indices``
            order; -1: the deepest).
        key (str): config key named in errors.
    """

    def __init__(self,
                 losses: Sequence[dict],
                 level: int = -1,
                 key: str = 'semi_train_cfg.feature_distill') -> None:
        super().__init__()
        built = []
        for i, cfg in enumerate(losses):
            try:
                loss = MODELS.build(cfg)
            except (KeyError, TypeError, ValueError) as e:
                raise ConfigError(f'{key}[{i}] = {cfg!r}: {e}') from e
            if not str(getattr(loss, 'loss_name', '')).startswith('loss_'):
                raise ConfigError(
                    f'{key}[{i}]: {type(loss).__name__} has no loss_name '
                    "starting with 'loss_'")
            built.append(loss)
        names = [loss.loss_name for loss in built]
        if len(set(names)) != len(names):
            raise ConfigError(f'{key}: loss names {names} must differ')
        self.losses = nn.ModuleList(built)
        self.level = level
        self.key = key
        self._records: List[Tuple[Tensor, object]] = []
        self._handle = None
        self._warned = False

    def attach(self, backbone: nn.Module) -> None:
        """Capture the outputs of ``backbone`` (the student's)."""
        if self._handle is not None:
            self._handle.remove()
        self._handle = backbone.register_forward_hook(self._record)

    def _record(self, module: nn.Module, args: tuple, output) -> None:
        if module.training and torch.is_grad_enabled() and args:
            self._records = self._records[-(MAX_RECORDS - 1):] + [
                (args[0], output)
            ]

    def _level(self, outputs) -> Tensor:
        """Output ``level`` of a backbone (a tensor or a tuple of them)."""
        outs = (outputs, ) if isinstance(outputs, Tensor) else outputs
        try:
            return outs[self.level]
        except IndexError:
            raise ConfigError(
                f'{self.key}_level = {self.level}, but the backbone returns '
                f'{len(outs)} feature maps') from None

    def _features(self, student: nn.Module, images: Tensor,
                  records: list) -> Tensor:
        found: Optional[object] = next(
            (out for inp, out in records if inp is images), None)
        if found is None:
            if not self._warned:
                print_log(
                    'feature distillation: no captured backbone forward of '
                    'a batch; running the backbone once more on it',
                    logger='current')
                self._warned = True
            with frozen_bn_stats(student):
                found = student.backbone(images)
        return self._level(found)

    def forward(self, student: nn.Module, labeled: Tensor,
                unlabeled: Union[Tensor, Sequence[Tensor]]
                ) -> Dict[str, Tensor]:
        """The losses between the labeled and the unlabeled features.

        Args:
            student (nn.Module): the segmentor whose backbone was attached.
            labeled (Tensor): (B_l, 3, H, W) the images of the labeled
                forward.
            unlabeled (Tensor | Sequence[Tensor]): (B_u, 3, H, W) the
                images of the unlabeled forward (e.g. the CutMix-ed strong
                view), or those of several forwards (e.g. two strong
                views), whose features form one set.

        Returns:
            dict[str, Tensor]: ``distill.<loss_name>`` -> scalar loss.
        """
        if isinstance(unlabeled, Tensor):
            unlabeled = [unlabeled]
        records, self._records = self._records, []
        try:
            feats_l = self._features(student, labeled, records)
            feats_u = torch.cat(
                [self._features(student, x, records) for x in unlabeled])
        finally:
            self._records = []
        return {
            f'distill.{loss.loss_name}': loss(feats_l, feats_u)
            for loss in self.losses
        }
