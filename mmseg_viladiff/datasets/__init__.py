from .camvid import CamVidDataset
from .partition import (PartitionDataset, PartitionEntry, read_partition,
                        split_labeled)
from .samplers import LabeledUnlabeledSampler
from .synthetic import SyntheticShapesDataset, generate_synthetic_dataset
from .transforms import SEMI_BRANCHES, MultiViewPack, StrongPhotometricAug

__all__ = [
    'CamVidDataset', 'LabeledUnlabeledSampler', 'MultiViewPack',
    'PartitionDataset', 'PartitionEntry', 'SEMI_BRANCHES',
    'StrongPhotometricAug', 'SyntheticShapesDataset',
    'generate_synthetic_dataset', 'read_partition', 'split_labeled'
]
