"""Make ``--resume`` continue the random streams where training stopped."""
import random

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save the main process's RNG states in checkpoints; restore on resume.

    mmengine's resume restores weights, optimiser, schedulers and replays the
    dataloader, but reseeds the global random generators, so dropout, CutMix
    and other in-model randomness after a resume differ from an
    uninterrupted run. This hook snapshots the torch (CPU and CUDA), numpy
    and Python states at the end of every training iteration, i.e. the
    states the next iteration starts from, stores the latest snapshot with
    each checkpoint (a checkpoint written later, e.g. the final one after
    training, still holds the state of the iteration it belongs to) and puts
    it back right before the first resumed iteration. With dataloader
    workers (whose seeds mmengine replays), ``N`` iterations, resume, ``N``
    more then equal ``2N`` straight iterations. In distributed runs the
    checkpoint (written by rank 0) holds rank 0's states: rank 0 restores
    them, the other ranks keep their freshly seeded streams rather than
    copying rank 0's.
    """
    # snapshot before the CheckpointHook saves in after_train_iter
    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._pending = None
        self._snapshot = None

    @staticmethod
    def _capture() -> dict:
        np_state = np.random.get_state()
        return dict(
            torch=torch.get_rng_state(),
            cuda=torch.cuda.get_rng_state_all()
            if torch.cuda.is_available() else [],
            # the numpy key array travels as a tensor (no extra safe globals)
            numpy=(np_state[0], torch.from_numpy(np_state[1].copy()),
                   *np_state[2:]),
            python=random.getstate())

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        self._snapshot = self._capture()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['random_state'] = self._snapshot or self._capture()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._pending = checkpoint.get('random_state')

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        if self._pending is None:
            return
        state, self._pending = self._pending, None
        if get_rank() != 0:
            return
        torch.set_rng_state(state['torch'])
        if state['cuda'] and torch.cuda.is_available():
            for device, cuda_state in enumerate(
                    state['cuda'][:torch.cuda.device_count()]):
                torch.cuda.set_rng_state(cuda_state, device)
        name, keys, *rest = state['numpy']
        np.random.set_state((name, keys.numpy(), *rest))
        random.setstate(state['python'])
