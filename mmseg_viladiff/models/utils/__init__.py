from .cascade import head_logits
from .cutmix import cutmix, random_box_masks
from .edge_band_weights import EdgeBandPixelWeights
from .ramps import sigmoid_rampup

__all__ = [
    'head_logits', 'cutmix', 'random_box_masks', 'EdgeBandPixelWeights',
    'sigmoid_rampup'
]
