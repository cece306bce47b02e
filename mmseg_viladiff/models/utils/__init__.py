from .cutmix import cutmix, random_box_masks
from .ramps import sigmoid_rampup

__all__ = ['cutmix', 'random_box_masks', 'sigmoid_rampup']
