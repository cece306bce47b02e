from .camvid import CamVidDataset
from .file_checks import check_seg_files
from .partition import (PartitionDataset, PartitionEntry, read_partition,
                        split_labeled)
from .samplers import LabeledUnlabeledSampler
from .synthetic import SyntheticShapesDataset, generate_synthetic_dataset
from .transforms import (SEMI_BRANCHES, CheckSegLabels, MultiViewPack,
                         StrongPhotometricAug)

__all__ = [
    'CamVidDataset', 'CheckSegLabels', 'check_seg_files',
    'LabeledUnlabeledSampler', 'MultiViewPack', 'PartitionDataset',
    'PartitionEntry', 'SEMI_BRANCHES', 'StrongPhotometricAug',
    'SyntheticShapesDataset', 'generate_synthetic_dataset', 'read_partition',
    'split_labeled'
]
