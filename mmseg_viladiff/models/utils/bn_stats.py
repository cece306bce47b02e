"""Forward passes that leave BatchNorm running statistics untouched."""
from contextlib import contextmanager
from typing import Iterator

import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm


@contextmanager
def frozen_bn_stats(module: nn.Module) -> Iterator[None]:
    """Do not update BN running statistics of ``module`` inside the block.

    Every ``_BatchNorm`` (BatchNorm1d/2d/3d, SyncBatchNorm, ...) of
    ``module`` that tracks running statistics gets
    ``track_running_stats=False`` for the duration of the block. In train
    mode such a layer still normalises with the statistics of the batch (the
    output is the same as with tracking on), but PyTorch then passes no
    running buffers to the kernel: ``running_mean``, ``running_var`` and
    ``num_batches_tracked`` are all left exactly as they were. (Setting
    ``momentum=0`` instead would keep mean and var but still advance
    ``num_batches_tracked``.) In eval mode the running statistics are still
    used, as PyTorch decides that from the buffers being present. The flags
    are restored on exit, also when the block raises.

    Args:
        module (nn.Module): model whose BN layers to freeze.
    """
    layers = [
        m for m in module.modules()
        if isinstance(m, _BatchNorm) and m.track_running_stats
    ]
    try:
        for m in layers:
            m.track_running_stats = False
        yield
    finally:
        for m in layers:
            m.track_running_stats = True
