from .load_caption import LoadCaption
from .multi_view import SEMI_BRANCHES, MultiViewPack
from .strong_aug import StrongPhotometricAug

__all__ = [
    'LoadCaption', 'MultiViewPack', 'SEMI_BRANCHES', 'StrongPhotometricAug'
]
