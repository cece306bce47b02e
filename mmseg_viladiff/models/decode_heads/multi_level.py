"""Arguments of a decode head that reads several pyramid levels."""
from typing import Sequence, Union

from ...utils.errors import ConfigError


def multi_level_args(head: str, in_channels: Union[int, Sequence[int]],
                     in_index: Union[int, Sequence[int]], order: str,
                     kwargs: dict) -> dict:
    """``BaseDecodeHead`` keyword arguments of a multi-level head:
    ``in_channels`` and ``in_index`` as lists and ``input_transform``
    fixed to ``'multiple_select'`` (the head gets every level as it is).

    Args:
        head (str): the head's type, for errors.
        in_channels, in_index: the config's values (lists of one entry per
            level).
        order (str): how the head orders its levels, for the error (e.g.
            'shallow first').
        kwargs (dict): the head's other ``BaseDecodeHead`` arguments; an
            ``input_transform`` other than 'multiple_select' is an error.

    Raises:
        ConfigError: a single level, or another ``input_transform``.
    """
    if isinstance(in_index, int) or isinstance(in_channels, int):
        raise ConfigError(f'{head}.in_index and in_channels must be lists '
                          f'({order}), got {in_index!r} and '
                          f'{in_channels!r}')
    kwargs = dict(kwargs)
    if kwargs.pop('input_transform', 'multiple_select') != 'multiple_select':
        raise ConfigError(f"{head}.input_transform is always "
                          "'multiple_select'; leave it unset")
    return dict(
        kwargs,
        in_channels=list(in_channels),
        in_index=list(in_index),
        input_transform='multiple_select')
