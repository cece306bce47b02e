"""EMA teacher update and semi-supervised schedule."""
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

from ...utils.errors import ConfigError


@HOOKS.register_module()
class SemiMeanTeacherHook(Hook):
    """Keep the teacher of a ``SemiEncoderDecoder`` an EMA of its student.

    At the start of a fresh run (iteration 0) the student is copied into the
    teacher. After every ``interval`` training iterations::

        teacher = m * teacher + (1 - m) * student
        m = min(1 - 1 / (t + 1), momentum) if warmup else momentum

    with t the 0-based index of the iteration just finished, so the teacher
    follows the student closely at first (t = 0 gives m = 0: a copy).
    Buffers (BN statistics) are copied from the student
    (``buffer_mode='copy'``, the default) or averaged the same way
    (``'average'``); integer buffers are always copied. Copying is the
    default because averaged BN statistics do not match averaged weights
    while the network changes fast: on CamVid 1/8 after 150 iterations the
    teacher with averaged statistics predicted almost only "road" (mIoU 3.4
    vs the student's 26.4), with the student's statistics it did not. The
    teacher is part of the model's state dict, so checkpoints hold it and
    ``--resume`` restores it exactly. Before each iteration the hook tells
    the model the current iteration (for the unsupervised weight ramp-up),
    and before training the run's ``max_iters`` (for weights that decay
    over the run, e.g. the dense CLIP guidance); it logs
    ``train/ema_momentum`` and ``train/unsup_weight``.

    Args:
        momentum (float): EMA momentum m in (0, 1). Defaults to 0.999.
        interval (int): update every ``interval`` iterations. Defaults to 1.
        warmup (bool): use the warm-up momentum above. Defaults to True.
        buffer_mode (str): 'copy' or 'average'. Defaults to 'copy'.
    """
    priority = 'ABOVE_NORMAL'

    def __init__(self,
                 momentum: float = 0.999,
                 interval: int = 1,
                 warmup: bool = True,
                 buffer_mode: str = 'copy') -> None:
        if not 0 < momentum < 1:
            raise ConfigError(
                f'SemiMeanTeacherHook.momentum must be in (0, 1), got '
                f'{momentum}')
        if not isinstance(interval, int) or interval < 1:
            raise ConfigError('SemiMeanTeacherHook.interval must be a '
                              f'positive int, got {interval!r}')
        if buffer_mode not in ('average', 'copy'):
            raise ConfigError("SemiMeanTeacherHook.buffer_mode must be "
                              f"'average' or 'copy', got {buffer_mode!r}")
        self.momentum = momentum
        self.interval = interval
        self.warmup = warmup
        self.buffer_mode = buffer_mode

    @staticmethod
    def _model(runner):
        model = runner.model
        model = model.module if is_model_wrapper(model) else model
        if not (hasattr(model, 'teacher') and hasattr(model, 'student')):
            raise TypeError('SemiMeanTeacherHook needs a model with '
                            f'`teacher` and `student`, got '
                            f'{type(model).__name__}')
        return model

    def before_train(self, runner) -> None:
        model = self._model(runner)
        if hasattr(model, 'set_max_iters'):  # the end of decaying weights
            model.set_max_iters(runner.max_iters)
        if runner.iter == 0:
            ema_update(
                model.teacher, model.student, momentum=0., buffer_mode='copy')
            print_log(
                'SemiMeanTeacherHook: teacher initialised from the '
                'student',
                logger='current')

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        model = self._model(runner)
        if hasattr(model, 'set_train_iter'):
            model.set_train_iter(runner.iter)
            if hasattr(model, 'current_unsup_weight'):
                runner.message_hub.update_scalar('train/unsup_weight',
                                                 model.current_unsup_weight)

    def momentum_at(self, iteration: int) -> float:
        """EMA momentum applied after the (0-based) ``iteration``."""
        if not self.warmup:
            return self.momentum
        return min(1 - 1 / (iteration + 1), self.momentum)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if (runner.iter + 1) % self.interval:
            return
        m = self.momentum_at(runner.iter)
        model = self._model(runner)
        ema_update(model.teacher, model.student, m, self.buffer_mode)
        runner.message_hub.update_scalar('train/ema_momentum', m)


@torch.no_grad()
def ema_update(teacher: torch.nn.Module,
               student: torch.nn.Module,
               momentum: float,
               buffer_mode: str = 'copy') -> None:
    """teacher <- momentum * teacher + (1 - momentum) * student, in place.

    Parameters are always averaged; floating buffers are averaged or copied
    per ``buffer_mode``; other buffers (e.g. BN's num_batches_tracked) are
    copied.
    """
    student_params = dict(student.named_parameters())
    for name, param in teacher.named_parameters():
        param.mul_(momentum).add_(
            student_params[name].detach(), alpha=1 - momentum)
    student_buffers = dict(student.named_buffers())
    for name, buf in teacher.named_buffers():
        src = student_buffers[name]
        if buffer_mode == 'average' and buf.dtype.is_floating_point:
            buf.mul_(momentum).add_(src, alpha=1 - momentum)
        else:
            buf.copy_(src)
