from .check_seg_labels import CheckSegLabels
from .load_caption import LoadCaption
from .multi_view import SEMI_BRANCHES, MultiViewPack
from .oracle_caption import OracleCaptionFromLabel
from .strong_aug import StrongPhotometricAug

__all__ = [
    'CheckSegLabels', 'LoadCaption', 'MultiViewPack',
    'OracleCaptionFromLabel', 'SEMI_BRANCHES', 'StrongPhotometricAug'
]
