from .camvid import CamVidDataset
from .partition import PartitionDataset, PartitionEntry, read_partition
from .synthetic import SyntheticShapesDataset, generate_synthetic_dataset

__all__ = [
    'CamVidDataset', 'PartitionDataset', 'PartitionEntry', 'read_partition',
    'SyntheticShapesDataset', 'generate_synthetic_dataset'
]
