"""The logits a segmentor's decode head is trained on, seen from its loss."""
from contextlib import contextmanager
from typing import Iterator, List

import torch.nn as nn
from torch import Tensor


@contextmanager
def recorded_seg_logits(segmentor: nn.Module) -> Iterator[List[Tensor]]:
    """Record the logits the segmentor's (first) decode head passes to its
    loss inside the block, so a second loss can use the same prediction
    without a second forward.

    MMSeg's ``BaseDecodeHead.loss_by_feat`` resizes the head's logits to the
    label size and calls each ``loss_decode`` module on them; a forward hook
    on the first loss module (of the first head of a cascade) records its
    first argument, the (B, K, H, W) logits, still in the autograd graph.
    The hook is removed on exit, also when the block raises.

    Args:
        segmentor (nn.Module): an MMSeg segmentor with ``decode_head`` (a
            head or, for a cascade, a ModuleList of heads).

    Yields:
        list[Tensor]: filled with one (B, K, H, W) tensor per loss call in
        the block (empty if the head computed no ``loss_decode``).
    """
    heads = segmentor.decode_head
    head = heads[0] if isinstance(heads, nn.ModuleList) else heads
    losses = head.loss_decode
    loss = losses[0] if isinstance(losses, nn.ModuleList) else losses
    seen: List[Tensor] = []

    def record(module: nn.Module, args: tuple, output) -> None:
        if args and isinstance(args[0], Tensor) and args[0].dim() == 4:
            seen.append(args[0])

    handle = loss.register_forward_hook(record)
    try:
        yield seen
    finally:
        handle.remove()
