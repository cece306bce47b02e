"""Run the decode heads of an MMSeg segmentor, cascaded or not."""
from typing import List, Optional, Tuple

from torch import Tensor, nn


def head_logits(segmentor,
                feats: List[Tensor],
                refined: bool = True) -> Tuple[Tensor, nn.Module]:
    """Logits (B, K, h, w) of a segmentor's decode head(s) on its features.

    For a ``CascadeEncoderDecoder`` (``decode_head`` is a ModuleList) the
    later heads refine the first one's output when ``refined``; otherwise
    only the first head runs. Returns the logits and the head that produced
    them (for its ``align_corners``).
    """
    first, last, head = cascade_logits(segmentor, feats, refined)
    return (last if refined and last is not None else first), head


def cascade_logits(segmentor,
                   feats: List[Tensor],
                   refined: bool = True
                   ) -> Tuple[Tensor, Optional[Tensor], nn.Module]:
    """First-head and refined logits of one pass over the decode heads.

    Returns:
        tuple: the first head's logits (B, K, h, w), the last head's
        (B, K, h', w') or None (no cascade, or ``refined=False``), and the
        head of the returned result (the last one run).
    """
    heads = segmentor.decode_head
    if not isinstance(heads, nn.ModuleList):
        logits = heads.forward(feats)
        # a VL segmentor's text prior (VLSegmentorMixin.add_text_prior)
        add_prior = getattr(segmentor, 'add_text_prior', None)
        return (add_prior(logits) if add_prior else logits), None, heads
    first = logits = heads[0].forward(feats)
    if not refined:
        return first, None, heads[0]
    for head in heads[1:]:
        logits = head.forward(feats, logits)
    return first, logits, heads[-1]


def link_cascade_heads(heads: nn.ModuleList) -> None:
    """Let each later head of a cascade read the previous head's features
    (heads with an ``attach_decoder`` method, e.g.
    ``EdgeAwareMixDiffusionHead(condition_on_decoder=True)``)."""
    for prev, head in zip(heads[:-1], heads[1:]):
        if hasattr(head, 'attach_decoder'):
            head.attach_decoder(prev)


def load_plain_into_first_head(state_dict: dict, prefix: str) -> None:
    """Rename, in place, a plain segmentor's ``{prefix}decode_head.x``
    (one decode head) to a cascade's ``{prefix}decode_head.0.x``, so that
    the checkpoint loads into the cascade's first head and the refining
    heads keep their own weights; a cascade's own keys are left as they
    are."""
    head = f'{prefix}decode_head.'
    for key in [k for k in state_dict if k.startswith(head)]:
        rest = key[len(head):]
        if not rest.split('.')[0].isdigit():
            state_dict[f'{head}0.{rest}'] = state_dict.pop(key)
