"""Run the decode heads of an MMSeg segmentor, cascaded or not."""
from typing import List, Tuple

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
    heads = segmentor.decode_head
    if not isinstance(heads, nn.ModuleList):
        return heads.forward(feats), heads
    logits = heads[0].forward(feats)
    if not refined:
        return logits, heads[0]
    for head in heads[1:]:
        logits = head.forward(feats, logits)
    return logits, heads[-1]
