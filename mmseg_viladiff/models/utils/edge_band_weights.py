"""Boundary-weighted losses for any MMSeg decode head, as a pixel sampler."""
from mmseg.registry import TASK_UTILS
from mmseg.structures.sampler import BasePixelSampler
from torch import Tensor

from ...utils.errors import ConfigError
from ..decode_heads.mixed_noise import edge_band


@TASK_UTILS.register_module()
class EdgeBandPixelWeights(BasePixelSampler):
    """Per-pixel loss weights ``1 + weight * E(p)``, E the edge band of the
    label map (see :func:`~mmseg_viladiff.models.edge_band`).

    MMSeg decode heads pass a pixel sampler's output to their losses as
    per-pixel weights, so ``sampler=dict(type='EdgeBandPixelWeights',
    weight=1.0, width=2)`` in any head's config (e.g.
    ``EdgeAwareMixDiffusionHead``) weights pixels near label edges up.
    Ignored pixels are neither edges nor weighted.

    Args:
        context (BaseDecodeHead): the head (for its ``ignore_index``).
        weight (float): extra weight of edge-band pixels (>= 0).
        width (int): band half-width in label pixels.
    """

    def __init__(self, context, weight: float = 1.0, width: int = 2) -> None:
        super().__init__()
        if weight < 0 or width < 1:
            raise ConfigError(f'EdgeBandPixelWeights: weight must be >= 0 '
                              f'and width >= 1, got {weight}, {width}')
        self.ignore_index = context.ignore_index
        self.weight = weight
        self.width = width

    def sample(self, seg_logit: Tensor, seg_label: Tensor) -> Tensor:
        """seg_label (B, 1, H, W) -> weights (B, H, W) float."""
        band = edge_band(seg_label[:, 0], self.width, self.ignore_index)
        return 1 + self.weight * band.to(seg_logit.dtype)
