"""Shared by the tests of the language-reading decode heads: a tiny local
CLIP as text encoder, toy vocabularies, features and labelled samples."""
import torch

#: channels and sizes of a 4-level toy pyramid (strides 4, 8, 16, 16)
CHANNELS = [8, 16, 24, 32]
SIZES = [(16, 16), (8, 8), (4, 4), (4, 4)]


def toy_vocabulary(num_classes: int) -> dict:
    """A custom vocabulary of ``num_classes`` classes, with 1 to 3 concept
    phrases each (so max-pooling meets padded concept lists)."""
    names = [f'thing{i}' for i in range(num_classes)]
    concepts = [[n] + [f'{n} kind {j}' for j in range(i % 3)]
                for i, n in enumerate(names)]
    return dict(name=f'toy{num_classes}', classes=names, concepts=concepts)


def promptor_cfg(clip: str, vocabulary, class_text: str = 'concepts'):
    """A ``CaptionPromptor`` on the tiny CLIP ``clip`` (D = 32), one
    template, in-memory cache."""
    return dict(
        type='CaptionPromptor',
        text_encoder=dict(type='OpenCLIPTextEncoder', model_name=clip),
        vocabulary=vocabulary,
        class_text=class_text,
        templates=('a photo of a {}.', ),
        cache_dir=None)


def pyramid(batch: int = 2, seed: int = 0):
    """Random features (B, C_i, H_i, W_i) of :data:`CHANNELS` /
    :data:`SIZES`."""
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randn(batch, c, *s, generator=g)
        for c, s in zip(CHANNELS, SIZES)
    ]


def permuted_text(text: dict, perm: torch.Tensor) -> dict:
    """The class text with class ``perm[i]`` moved to position i: class
    embeddings reordered, concepts kept, their class ids renamed."""
    out = dict(class_embeddings=text['class_embeddings'][perm])
    if 'concept_embeddings' in text:
        inverse = torch.argsort(perm)
        out.update(
            concept_embeddings=text['concept_embeddings'],
            concept_class=inverse[text['concept_class']])
    return out
