"""Infinite sampler drawing each batch from a labeled and an unlabeled set."""
import itertools
from typing import Iterator, Optional, Sequence

import torch
from mmengine.dataset import ConcatDataset
from mmengine.dist import get_dist_info, sync_random_seed
from mmseg.registry import DATA_SAMPLERS
from torch.utils.data import Sampler

from ...utils.errors import ConfigError


@DATA_SAMPLERS.register_module()
class LabeledUnlabeledSampler(Sampler):
    """Yield batches of ``n_l`` labeled then ``n_u`` unlabeled indices.

    The dataset is a ``ConcatDataset`` of ``[labeled, unlabeled]``. Each
    source is reshuffled every pass (independently, seeded) and sharded over
    processes like mmengine's ``InfiniteSampler``, so in distributed training
    every process sees different labeled and unlabeled samples. Set the
    dataloader's ``batch_size`` to this sampler's ``batch_size``.

    Args:
        dataset (ConcatDataset): ``[labeled, unlabeled]``.
        batch_size (int): samples per batch and process, ``n_l + n_u``.
        source_ratio (Sequence[int]): labeled : unlabeled ratio within a
            batch, e.g. ``(1, 1)`` or ``(1, 2)``; both must be positive and
            ``batch_size`` divisible by their sum.
        seed (int, optional): shuffling seed, shared by all processes.
    """

    def __init__(self,
                 dataset: ConcatDataset,
                 batch_size: int,
                 source_ratio: Sequence[int] = (1, 1),
                 seed: Optional[int] = None) -> None:
        if not isinstance(dataset, ConcatDataset) or \
                len(dataset.datasets) != 2:
            raise ConfigError('LabeledUnlabeledSampler needs dataset='
                              'ConcatDataset(datasets=[labeled, unlabeled])')
        if len(source_ratio) != 2 or min(source_ratio) <= 0 or any(
                int(r) != r for r in source_ratio):
            raise ConfigError('sampler.source_ratio must be two positive '
                              f'integers (labeled, unlabeled), got '
                              f'{tuple(source_ratio)}')
        total = sum(source_ratio)
        if batch_size <= 0 or batch_size % total:
            raise ConfigError(f'sampler.batch_size ({batch_size}) must be a '
                              f'positive multiple of sum(source_ratio) '
                              f'({total})')
        self.dataset = dataset
        self.batch_size = batch_size
        self.num_per_source = (batch_size // total * int(source_ratio[0]),
                               batch_size // total * int(source_ratio[1]))
        self.sizes = [len(d) for d in dataset.datasets]
        for name, size in zip(('labeled', 'unlabeled'), self.sizes):
            if size == 0:
                raise ConfigError(f'train_dataloader: the {name} dataset is '
                                  'empty')
        self.offsets = (0, self.sizes[0])
        self.rank, self.world_size = get_dist_info()
        self.seed = sync_random_seed() if seed is None else seed

    def _source_indices(self, source: int) -> Iterator[int]:
        """This process's share of an endless reshuffled index stream."""

        def endless():
            g = torch.Generator()
            g.manual_seed(self.seed + source)
            while True:
                yield from torch.randperm(
                    self.sizes[source], generator=g).tolist()

        offset = self.offsets[source]
        for i in itertools.islice(endless(), self.rank, None, self.world_size):
            yield offset + i

    def __iter__(self) -> Iterator[int]:
        streams = [self._source_indices(0), self._source_indices(1)]
        while True:
            for stream, num in zip(streams, self.num_per_source):
                for _ in range(num):
                    yield next(stream)

    def __len__(self) -> int:
        return sum(self.sizes)

    def set_epoch(self, epoch: int) -> None:
        """Iteration-based: nothing to do (kept for DistSamplerSeedHook)."""
