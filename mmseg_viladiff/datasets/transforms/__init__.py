from .multi_view import SEMI_BRANCHES, MultiViewPack
from .strong_aug import StrongPhotometricAug

__all__ = ['MultiViewPack', 'SEMI_BRANCHES', 'StrongPhotometricAug']
