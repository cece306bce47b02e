"""Safe loading of Runner checkpoints under ``torch.load(weights_only=True)``.

torch >= 2.6 unpickles checkpoints with an allow-list. A Runner checkpoint
holds, besides tensors, numpy arrays and scalars (log history, metrics) and
mmengine ``HistoryBuffer`` objects; the latter are turned into plain data by
:class:`~mmseg_viladiff.engine.hooks.SafeCheckpointHook` when saved, so only
the harmless numpy reconstruction globals below need allowing. In particular
``builtins.getattr`` is never allowed (it would let a checkpoint file call
arbitrary functions), and safe loading is never switched off.
"""
from typing import List

import numpy as np
import torch


def _numpy_globals() -> List[object]:
    """numpy objects needed to rebuild arrays, dtypes and scalars."""
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    dtypes = [
        type(np.dtype(t))
        for t in (np.float64, np.float32, np.float16, np.int64, np.int32,
                  np.int16, np.int8, np.uint8, np.bool_)
    ]
    return [_reconstruct, scalar, np.ndarray, np.dtype] + dtypes


SAFE_GLOBALS = _numpy_globals()


def register_safe_globals() -> None:
    """Allow :data:`SAFE_GLOBALS` in ``torch.load(weights_only=True)``."""
    torch.serialization.add_safe_globals(SAFE_GLOBALS)
