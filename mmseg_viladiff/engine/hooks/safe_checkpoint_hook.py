"""Keep Runner checkpoints loadable with ``torch.load(weights_only=True)``."""
from collections import OrderedDict

from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmseg.registry import HOOKS

#: marks a HistoryBuffer stored as plain data
_TAG = '__history_buffer__'


def history_buffer_to_dict(buffer: HistoryBuffer) -> dict:
    """Plain-data form of a HistoryBuffer (arrays and an int)."""
    log_history, count_history = buffer.data
    return {
        _TAG: True,
        'log_history': log_history,
        'count_history': count_history,
        'max_length': buffer.max_length
    }


def dict_to_history_buffer(data: dict) -> HistoryBuffer:
    """Inverse of :func:`history_buffer_to_dict`."""
    return HistoryBuffer(
        list(data['log_history']), list(data['count_history']),
        data['max_length'])


@HOOKS.register_module()
class SafeCheckpointHook(Hook):
    """Store the message hub's log history as plain data in checkpoints.

    mmengine pickles ``HistoryBuffer`` objects into ``checkpoint
    ['message_hub']['log_scalars']``; torch's safe unpickler refuses them.
    This hook swaps them for dicts of numpy arrays before saving and back
    after loading, so ``tools/train.py --resume`` and ``tools/test.py`` work
    with safe loading on. Checkpoints from other runners load unchanged.
    """
    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        scalars = checkpoint.get('message_hub', {}).get('log_scalars')
        if not scalars:
            return
        checkpoint['message_hub']['log_scalars'] = OrderedDict(
            (key,
             history_buffer_to_dict(value) if isinstance(value, HistoryBuffer
                                                         ) else value)
            for key, value in scalars.items())

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        scalars = checkpoint.get('message_hub', {}).get('log_scalars')
        if not scalars:
            return
        checkpoint['message_hub']['log_scalars'] = OrderedDict(
            (key, dict_to_history_buffer(value)
             if isinstance(value, dict) and value.get(_TAG) else value)
            for key, value in scalars.items())
