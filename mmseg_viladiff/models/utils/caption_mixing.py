"""Captions of mixed images: which source images a CutMix-ed sample shows,
and the text it then gets.

CutMix pastes a box of sample ``j`` into sample ``i``; the mixed image
shows both, but its metainfo still holds only the caption of ``i``.
:func:`source_map` gives each pixel the index of its sample, so mixing it
as one more CutMix target says where every pixel of a mixed image came
from; :func:`mix_captions` then gives each sample the captions of all its
sources. ``CaptionPromptor`` reads a tuple of captions as one token
sequence, the concatenation of each caption's (cached) tokens: the union
of both images' caption tokens, at no text-encoder cost.
"""
from typing import List

import torch
from torch import Tensor

#: ``semi_train_cfg.mix_captions``: 'union' (a mixed sample reads the
#: captions of every image it shows, its own first) or 'own' (its own
#: caption only, whatever was pasted into it)
MIX_CAPTION_MODES = ('union', 'own')


def source_map(labels: Tensor) -> Tensor:
    """Each pixel's sample index, to be mixed along with the images.

    Args:
        labels (Tensor): any (B, H, W) map of the batch (for shape and
            device).

    Returns:
        Tensor: (B, H, W) long, ``b`` everywhere in sample ``b``.
    """
    b = labels.shape[0]
    index = torch.arange(b, device=labels.device)  # (B,)
    return index.view(b, 1, 1).expand_as(labels).contiguous()


def mix_captions(data_samples: list,
                 sources: Tensor,
                 mode: str = 'union') -> list:
    """Samples whose ``caption`` covers every image their pixels come from.

    Args:
        data_samples (list[SegDataSample]): the B samples before mixing.
        sources (Tensor): (B, H, W) the :func:`source_map` after mixing.
        mode (str): one of :data:`MIX_CAPTION_MODES`.

    Returns:
        list[SegDataSample]: ``data_samples`` itself when nothing changes
        (mode 'own', no captions, or no sample mixed); else copies in
        which a mixed sample's ``caption`` is a tuple: its own caption,
        then those of the other sources in batch order (empty captions and
        repeats left out).
    """
    if mode not in MIX_CAPTION_MODES:
        raise ValueError(f'mix_captions mode must be one of '
                         f'{MIX_CAPTION_MODES}, got {mode!r}')
    if mode == 'own' or not all('caption' in s.metainfo for s in data_samples):
        return data_samples
    out: List = []
    for i, sample in enumerate(data_samples):
        others = [
            int(j) for j in torch.unique(sources[i]).tolist() if int(j) != i
        ]
        if not others:
            out.append(sample)
            continue
        parts: List[str] = []
        for j in [i] + others:
            caption = data_samples[j].metainfo['caption']
            if not isinstance(caption, (list, tuple)):
                caption = (caption, )
            for part in caption:
                if part and part not in parts:
                    parts.append(part)
        mixed = sample.clone()  # new containers, the same tensors
        mixed.set_metainfo(dict(caption=tuple(parts)))
        out.append(mixed)
    return out
