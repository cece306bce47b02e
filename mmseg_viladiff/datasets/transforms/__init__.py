from .check_seg_labels import CheckSegLabels
from .load_caption import LoadCaption
from .multi_view import SEMI_BRANCHES, MultiViewPack
from .strong_aug import StrongPhotometricAug

__all__ = [
    'CheckSegLabels', 'LoadCaption', 'MultiViewPack', 'SEMI_BRANCHES',
    'StrongPhotometricAug'
]
