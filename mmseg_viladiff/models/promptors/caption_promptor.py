"""CaptionPromptor: a batch's captions and the class vocabulary as text
embeddings, from a frozen encoder through an on-disk cache."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from ...text import (PROMPT_TEMPLATES, TextEmbeddingCache, build_text_encoder,
                     class_prompts, concept_prompts, get_vocabulary)
from ...utils.errors import ConfigError

#: where class embeddings come from (see ``CaptionPromptor.class_text``)
CLASS_TEXTS = ('prompts', 'concepts')
#: what one caption token is (see ``CaptionPromptor.caption_units``)
CAPTION_UNITS = ('tokens', 'phrases')


@MODELS.register_module()
class CaptionPromptor(nn.Module):
    """Text embeddings for a batch: caption tokens per image, one embedding
    per class.

    Class embeddings are computed once at build time (the mean of the
    pooled embeddings of the class's prompts, one per template, then
    L2-normalised) and kept as a buffer, so they travel with checkpoints and
    class-text inference needs no encoder call. Caption embeddings come
    from a :class:`~mmseg_viladiff.text.TextEmbeddingCache`: each distinct
    caption is encoded once, ever (per encoder and cache folder). The frozen
    encoder is shared by all promptors with the same config and is not a
    sub-module, so it is neither saved in checkpoints nor wrapped by DDP.

    Args:
        text_encoder (dict): config of a text encoder (``HFTextEncoder`` or
            ``OpenCLIPTextEncoder``).
        vocabulary (str | dict): a known vocabulary ('voc', 'cityscapes',
            'coco', 'ade20k', 'camvid') or ``dict(name=, classes=[...],
            definitions=[...])``.
        use_definitions (bool): append each class's definition to its
            prompts (SemiVL-style) instead of the bare class name.
        templates (Sequence[str], optional): prompt templates with one
            ``{}``; defaults to the vocabulary module's templates.
        cache_dir (str, optional): on-disk embedding cache; None keeps it
            in memory for the run only.
        max_caption_tokens (int, optional): keep at most this many tokens
            per caption (the cache keeps them all).
        class_text (str): 'prompts' (default: the class's prompt name in
            every template) or 'concepts' (SemiVL-style concept lists of
            the vocabulary: each phrase is embedded as the normalised mean
            over the templates, and the class embedding is the normalised
            mean of its phrases' embeddings). With 'concepts' the promptor
            also keeps the buffers ``concept_embeddings`` (P, D) and
            ``concept_class`` (P,) (the class of each phrase), for heads
            that max-pool similarities over a class's phrases.
        caption_units (str): what one caption token is: 'tokens' (default:
            the encoder's token embeddings of the whole caption) or
            'phrases' (the caption split at full stops, one pooled
            embedding per phrase: 'bottom left: car, road.' becomes one
            vector holding both the place and the classes, which the
            fusion's pixels can match without binding a place word to the
            class words that follow it).
    """

    def __init__(self,
                 text_encoder: dict,
                 vocabulary: Union[str, dict],
                 use_definitions: bool = False,
                 templates: Optional[Sequence[str]] = None,
                 cache_dir: Optional[str] = 'work_dirs/text_cache',
                 max_caption_tokens: Optional[int] = None,
                 class_text: str = 'prompts',
                 caption_units: str = 'tokens') -> None:
        super().__init__()
        if caption_units not in CAPTION_UNITS:
            raise ConfigError(f'CaptionPromptor.caption_units must be one of '
                              f'{CAPTION_UNITS}, got {caption_units!r}')
        self.caption_units = caption_units
        if class_text not in CLASS_TEXTS:
            raise ConfigError(f'CaptionPromptor.class_text must be one of '
                              f'{CLASS_TEXTS}, got {class_text!r}')
        if class_text == 'concepts' and use_definitions:
            raise ConfigError(
                "CaptionPromptor: class_text='concepts' embeds short concept "
                'phrases; use_definitions=True (definitions appended to '
                'the prompts) is for class_text=\'prompts\'')
        self.class_text = class_text
        self.vocabulary = get_vocabulary(vocabulary)
        self.max_caption_tokens = max_caption_tokens
        encoder = build_text_encoder(text_encoder)
        self.cache = TextEmbeddingCache(encoder, cache_dir)
        self.embed_dim = encoder.embed_dim
        templates = tuple(templates or PROMPT_TEMPLATES)
        if class_text == 'concepts':
            self._embed_concepts(templates)
            return
        prompts = class_prompts(
            self.vocabulary,
            templates=templates,
            use_definitions=use_definitions)
        self.register_buffer(
            'class_embeddings',
            torch.stack([self._mean_embedding(p) for p in prompts]))

    def _mean_embedding(self, texts: List[str]) -> Tensor:
        """L2-normalised mean of the pooled embeddings of ``texts`` (D,)."""
        pooled = torch.stack([e.pooled for e in self.cache.get(texts)])
        return F.normalize(pooled.mean(0), dim=-1)

    def _embed_concepts(self, templates: Sequence[str]) -> None:
        """Buffers ``concept_embeddings`` (P, D), ``concept_class`` (P,)
        and ``class_embeddings`` (K, D) from the vocabulary's concepts."""
        per_class = concept_prompts(self.vocabulary, templates)
        # one encoder pass for every missing text, not one per phrase
        self.cache.get([t for c in per_class for p in c for t in p])
        concepts, owner, classes = [], [], []
        for k, phrases in enumerate(per_class):
            embs = [self._mean_embedding(p) for p in phrases]  # each (D,)
            concepts.extend(embs)
            owner.extend([k] * len(embs))
            classes.append(F.normalize(torch.stack(embs).mean(0), dim=-1))
        self.register_buffer('concept_embeddings', torch.stack(concepts))
        self.register_buffer('concept_class', torch.tensor(owner))
        self.register_buffer('class_embeddings', torch.stack(classes))

    @property
    def num_classes(self) -> int:
        return self.vocabulary.num_classes

    @staticmethod
    def captions_of(batch_img_metas: List[dict]) -> List[str]:
        """The ``caption`` meta key of each sample (clear error if absent)."""
        captions = []
        for i, meta in enumerate(batch_img_metas):
            if 'caption' not in meta:
                where = meta.get('img_path') or f'sample {i} (in memory)'
                raise ConfigError(
                    f'{where} has no caption: the data pipeline needs '
                    f"LoadCaption and 'caption' in PackSegInputs' meta_keys, "
                    f"and the caption file a caption of the image (LoadCaption"
                    f" with on_missing='skip' leaves images without one "
                    f'uncaptioned; `tools/generate_captions.py` writes them); '
                    f"or set the VLFusionNeck's infer_mode to 'class' or "
                    f"'vision'")
            captions.append(meta['caption'])
        return captions

    def forward(
            self,
            batch_img_metas: Optional[List[dict]] = None) -> Dict[str, Tensor]:
        """Text inputs of a batch.

        Args:
            batch_img_metas (list[dict], optional): metainfo of the B
                samples, each with a ``caption``: a str, or a tuple of str
                (a CutMix-ed image, see
                :func:`~mmseg_viladiff.models.utils.mix_captions`), whose
                token sequences are concatenated in order, each cut to
                ``max_caption_tokens``. None: class embeddings only.

        Returns:
            dict[str, Tensor]: ``class_embeddings`` (K, D), with
            ``class_text='concepts'`` ``concept_embeddings`` (P, D) and
            ``concept_class`` (P,) long, and, with metas,
            ``caption_tokens`` (B, L, D) (zero padded) and ``caption_mask``
            (B, L) bool, True on real tokens (an empty caption has none).
        """
        out = dict(class_embeddings=self.class_embeddings)
        if self.class_text == 'concepts':
            out.update(
                concept_embeddings=self.concept_embeddings,
                concept_class=self.concept_class)
        if batch_img_metas is None:
            return out
        parts = [
            tuple(c) if isinstance(c, (list, tuple)) else (c, )
            for c in self.captions_of(batch_img_metas)
        ]
        if self.caption_units == 'phrases':
            parts = [
                tuple(f'{u.strip()}.' for t in p for u in t.split('.')
                      if u.strip()) for p in parts
            ]
        texts = sorted({t for p in parts for t in p if t})
        cached = dict(zip(texts, self.cache.get(texts)))
        device = self.class_embeddings.device
        embs = []
        for p in parts:
            if self.caption_units == 'phrases':
                pieces = [cached[t].pooled[None] for t in p]  # (1, D) each
            else:
                pieces = [
                    cached[t].tokens[:self.max_caption_tokens] for t in p if t
                ]
            embs.append(
                torch.cat(pieces) if pieces else torch.zeros(
                    0, self.embed_dim))  # (L_i, D)
        length = max(1, max(len(t) for t in embs))
        tokens = torch.zeros(len(embs), length, self.embed_dim, device=device)
        mask = torch.zeros(len(embs), length, dtype=torch.bool, device=device)
        for i, t in enumerate(embs):
            tokens[i, :len(t)] = t.to(device)
            mask[i, :len(t)] = True
        out.update(caption_tokens=tokens, caption_mask=mask)
        return out
