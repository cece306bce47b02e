"""Class text for decode heads that read language: a frozen promptor's
class (and concept) embeddings, and max-pooling over a class's concepts."""
import torch
import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor

from ...utils.errors import ConfigError

#: how a head turns concept phrases into one map per class: 'mean' uses
#: the promptor's class embeddings (mean of the phrases' embeddings); 'max'
#: takes, per pixel, the largest similarity among the class's phrases
CONCEPT_POOLINGS = ('mean', 'max')


def build_class_promptor(promptor: dict,
                         num_classes: int,
                         head: str,
                         concept_pooling: str = 'mean') -> nn.Module:
    """Build a head's ``CaptionPromptor`` and check it fits the head.

    The promptor computes its class embeddings once, at build time, with a
    frozen text encoder that is not one of its sub-modules (see
    :class:`~mmseg_viladiff.models.CaptionPromptor`): as a sub-module of
    the head it adds buffers only, no parameter, and no gradient ever
    reaches the encoder.

    Args:
        promptor (dict): the ``CaptionPromptor`` config.
        num_classes (int): the head's K.
        head (str): the head's class name, for messages.
        concept_pooling (str): one of :data:`CONCEPT_POOLINGS`.

    Returns:
        nn.Module: the promptor.

    Raises:
        ConfigError: naming the key at fault, for an unknown pooling, a
            vocabulary whose size is not ``num_classes``, or 'max' pooling
            with a promptor that has no concept embeddings.
    """
    if concept_pooling not in CONCEPT_POOLINGS:
        raise ConfigError(f'{head}.concept_pooling must be one of '
                          f'{CONCEPT_POOLINGS}, got {concept_pooling!r}')
    if not isinstance(promptor, dict) or 'type' not in promptor:
        raise ConfigError(f"{head}.promptor must be a config dict with a "
                          f"'type' (e.g. dict(type='CaptionPromptor', ...)), "
                          f'got {promptor!r}')
    built = MODELS.build(promptor)
    if built.num_classes != num_classes:
        raise ConfigError(
            f'{head}.num_classes = {num_classes}, but its promptor\'s '
            f'vocabulary {built.vocabulary.name!r} has {built.num_classes} '
            'classes')
    if concept_pooling == 'max' and getattr(built, 'class_text',
                                            None) != 'concepts':
        raise ConfigError(
            f"{head}.concept_pooling='max' needs concept embeddings: set "
            f"{head}.promptor.class_text='concepts'")
    return built


def concept_index(concept_class: Tensor, num_classes: int) -> Tensor:
    """Indices of each class's concepts, padded with -1.

    Args:
        concept_class (Tensor): (P,) long, the class of each concept.
        num_classes (int): K; every class needs at least one concept.

    Returns:
        Tensor: (K, M) long, row k the concept indices of class k (in
        order), M the largest number of concepts of a class.
    """
    counts = torch.bincount(concept_class, minlength=num_classes)  # (K,)
    if (counts == 0).any():
        missing = (counts == 0).nonzero()[:, 0].tolist()
        raise ValueError(f'classes {missing} have no concept embedding')
    order = torch.argsort(concept_class, stable=True)  # (P,)
    owner = concept_class[order]
    starts = torch.cumsum(counts, 0) - counts  # (K,)
    rank = torch.arange(len(order), device=order.device) - starts[owner]
    index = order.new_full((num_classes, int(counts.max())), -1)
    index[owner, rank] = order
    return index


def max_over_concepts(sim: Tensor, index: Tensor) -> Tensor:
    """Per class, the largest similarity among its concepts (SemiVL's
    'concept' aggregation).

    Args:
        sim (Tensor): (B, P, H, W) similarity of each concept.
        index (Tensor): (K, M) from :func:`concept_index`.

    Returns:
        Tensor: (B, K, H, W).
    """
    b, _, h, w = sim.shape
    k, m = index.shape
    picked = sim[:, index.clamp(min=0).flatten()]  # (B, K*M, H, W)
    picked = picked.view(b, k, m, h, w)
    pad = (index < 0).view(1, k, m, 1, 1)
    return picked.masked_fill(pad, float('-inf')).amax(dim=2)
