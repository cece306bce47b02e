"""Class vocabularies: names, prompt names and definitions per dataset.

A :class:`ClassVocabulary` holds a dataset's class names in label order
(spelled exactly as the dataset's ``METAINFO['classes']``), the natural
names used in text prompts (``'pottedplant'`` -> ``'potted plant'``) and a
one-sentence definition per class (see :mod:`.class_definitions`) and a
list of concept phrases per class (see :mod:`.class_concepts`). The text
side of the method builds its prompts from here: CLIP-style class prompts
(:func:`class_prompts`), concept prompts (:func:`concept_prompts`) and the
instruction given to captioning VLMs (:func:`caption_prompt`).

Example:
    >>> vocab = get_vocabulary('pascal_voc')
    >>> vocab.num_classes, vocab.prompt_names[16]
    (21, 'potted plant')
    >>> class_prompts(vocab, templates=('a photo of a {}.', ))[16]
    ['a photo of a potted plant.']
"""
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

from .class_concepts import (CAMVID_CONCEPTS, CITYSCAPES_CONCEPTS,
                             VOC_CONCEPTS)
from .class_definitions import (ADE20K_DEFINITIONS, CAMVID_DEFINITIONS,
                                CITYSCAPES_DEFINITIONS, COCO_DEFINITIONS,
                                VOC_DEFINITIONS)

#: CLIP-style templates; ``{}`` is replaced by a class's prompt name.
PROMPT_TEMPLATES = (
    'a photo of a {}.',
    'a photo of the {}.',
    'a cropped photo of the {}.',
    'a close-up photo of a {}.',
    'a photo of a {} in the scene.',
    'there is a {} in the scene.',
    'a blurry photo of the {}.',
)

#: instruction for captioning VLMs; ``{}`` receives the comma-joined names.
CAPTION_TEMPLATE = ('Describe this image in one sentence, naming which of '
                    'these appear: {}.')

#: class names that mean "none of the others"; left out of caption prompts.
BACKGROUND_NAMES = ('background', )


@dataclass(frozen=True)
class ClassVocabulary:
    """The classes of one dataset, in label order, with their text.

    Args:
        name (str): Vocabulary name, used in messages and cache keys.
        classes (tuple[str]): Class names, exactly as the dataset spells them.
        definitions (tuple[str]): One sentence per class.
        prompt_names (tuple[str]): Names used in prompts, one per class.
            Empty (default) means the same as ``classes``.
        concepts (tuple[tuple[str]]): Concept phrases, one non-empty tuple
            per class (SemiVL-style class text). Empty (default) means one
            phrase per class, its prompt name.

    Raises:
        ValueError: If the tuples differ in length, a string is empty or a
            class name repeats; the message names the vocabulary, the field
            and the offending index.
    """
    name: str
    classes: Tuple[str, ...]
    definitions: Tuple[str, ...]
    prompt_names: Tuple[str, ...] = field(default=())
    concepts: Tuple[Tuple[str, ...], ...] = field(default=())

    def __post_init__(self):
        for key in ('classes', 'definitions', 'prompt_names'):
            value = getattr(self, key)
            if isinstance(value, str):
                raise ValueError(f'vocabulary {self.name!r}: {key} must be a '
                                 f'sequence of strings, not a string')
            object.__setattr__(self, key, tuple(value))
        if not self.prompt_names:
            object.__setattr__(self, 'prompt_names', self.classes)
        if not self.classes:
            raise ValueError(f'vocabulary {self.name!r}: classes is empty')
        for key in ('definitions', 'prompt_names'):
            if len(getattr(self, key)) != len(self.classes):
                raise ValueError(
                    f'vocabulary {self.name!r}: {key} has '
                    f'{len(getattr(self, key))} entries but classes has '
                    f'{len(self.classes)}; give one per class')
        for key in ('classes', 'definitions', 'prompt_names'):
            for i, text in enumerate(getattr(self, key)):
                if not isinstance(text, str) or not text.strip():
                    raise ValueError(
                        f'vocabulary {self.name!r}: {key}[{i}] is empty or '
                        f'not a string: {text!r}')
        self._check_concepts()
        seen = {}
        for i, name in enumerate(self.classes):
            if name in seen:
                raise ValueError(
                    f'vocabulary {self.name!r}: classes[{i}] {name!r} '
                    f'repeats classes[{seen[name]}]')
            seen[name] = i

    def _check_concepts(self):
        if isinstance(self.concepts, str):
            raise ValueError(f'vocabulary {self.name!r}: concepts must be a '
                             'sequence of phrase lists, not a string')
        if not self.concepts:
            object.__setattr__(self, 'concepts',
                               tuple((p, ) for p in self.prompt_names))
            return
        if len(self.concepts) != len(self.classes):
            raise ValueError(
                f'vocabulary {self.name!r}: concepts has '
                f'{len(self.concepts)} entries but classes has '
                f'{len(self.classes)}; give one phrase list per class')
        concepts = []
        for i, phrases in enumerate(self.concepts):
            if isinstance(phrases, str) or not phrases or not all(
                    isinstance(p, str) and p.strip() for p in phrases):
                raise ValueError(
                    f'vocabulary {self.name!r}: concepts[{i}] must be a '
                    f'non-empty list of non-empty strings, got {phrases!r}')
            concepts.append(tuple(phrases))
        object.__setattr__(self, 'concepts', tuple(concepts))

    @property
    def num_classes(self) -> int:
        """int: Number of classes."""
        return len(self.classes)


def _vocabulary(
        name: str,
        definitions: Dict[str, str],
        renames: Dict[str, str],
        concepts: Optional[Dict[str, tuple]] = None) -> ClassVocabulary:
    """Build a built-in vocabulary from ``{class: definition}`` (and
    ``{class: phrases}``, same keys in the same order)."""
    classes = tuple(definitions)
    if concepts is not None and tuple(concepts) != classes:
        raise ValueError(f'vocabulary {name!r}: the concept lists name '
                         f'{tuple(concepts)}, the definitions {classes}')
    return ClassVocabulary(
        name=name,
        classes=classes,
        definitions=tuple(definitions.values()),
        prompt_names=tuple(renames.get(c, c) for c in classes),
        concepts=tuple(concepts.values()) if concepts else ())


VOCABULARIES = {
    'voc':
    _vocabulary(
        'voc',
        VOC_DEFINITIONS,
        dict(
            diningtable='dining table',
            pottedplant='potted plant',
            tvmonitor='tv monitor'),
        concepts=VOC_CONCEPTS),
    'cityscapes':
    _vocabulary(
        'cityscapes', CITYSCAPES_DEFINITIONS, {},
        concepts=CITYSCAPES_CONCEPTS),
    'coco':
    _vocabulary('coco', COCO_DEFINITIONS, {
        'tv': 'television',
        'hair drier': 'hair dryer'
    }),
    'ade20k':
    _vocabulary(
        'ade20k', ADE20K_DEFINITIONS, {
            'bed ': 'bed',
            'windowpane': 'window',
            'base': 'pedestal',
            'case': 'display case',
            'hovel': 'hut',
            'palm': 'palm tree',
            'television receiver': 'television',
            'apparel': 'clothes',
            'land': 'ground',
            'bannister': 'banister',
            'buffet': 'sideboard',
            'conveyer belt': 'conveyor belt',
            'washer': 'washing machine',
            'plaything': 'toy',
            'minibike': 'motorbike',
            'tank': 'storage tank',
            'trade name': 'brand name',
            'pot': 'flower pot',
            'screen': 'projection screen',
            'hood': 'exhaust hood',
            'ashcan': 'trash can',
            'crt screen': 'CRT screen',
            'glass': 'drinking glass',
        }),
    'camvid':
    _vocabulary(
        'camvid',
        CAMVID_DEFINITIONS, {'signsymbol': 'sign symbol'},
        concepts=CAMVID_CONCEPTS),
}

#: accepted spellings, compared after lower-casing and dropping non-letters
#: and non-digits (``'Pascal-VOC'`` -> ``'pascalvoc'``).
_ALIASES = {
    'voc': 'voc',
    'pascalvoc': 'voc',
    'voc2012': 'voc',
    'pascalvoc2012': 'voc',
    'voc12': 'voc',
    'cityscapes': 'cityscapes',
    'coco': 'coco',
    'coco81': 'coco',
    'ade': 'ade20k',
    'ade20k': 'ade20k',
    'ade150': 'ade20k',
    'camvid': 'camvid',
    'camvid11': 'camvid',
}

_CUSTOM_KEYS = ('name', 'classes', 'definitions', 'prompt_names', 'concepts')


def get_vocabulary(
        name_or_vocab: Union[str, dict, ClassVocabulary]) -> ClassVocabulary:
    """Look up a built-in vocabulary or build a custom one.

    Args:
        name_or_vocab (str | dict | ClassVocabulary): A key of
            :data:`VOCABULARIES` or an alias (case-insensitive, e.g.
            ``'pascal_voc'``, ``'ADE'``, ``'coco81'``); or a dict
            ``dict(name=..., classes=[...], definitions=[...],
            prompt_names=[...], concepts=[[...], ...])`` for a custom
            dataset, where only ``classes`` is required (``name`` defaults
            to ``'custom'``, ``prompt_names`` to ``classes``, each definition
            to ``'The {prompt name} in the image.'``, each concept list to
            the prompt name alone); or a vocabulary, returned as is.

    Returns:
        ClassVocabulary: The vocabulary.

    Raises:
        KeyError: For an unknown name; the message lists the known ones.
        ValueError: For a malformed dict (unknown keys, no ``classes``,
            lengths that differ, empty or repeated names).
    """
    if isinstance(name_or_vocab, ClassVocabulary):
        return name_or_vocab
    if isinstance(name_or_vocab, str):
        key = _ALIASES.get(re.sub(r'[^a-z0-9]', '', name_or_vocab.lower()))
        if key is None:
            raise KeyError(
                f'unknown vocabulary {name_or_vocab!r}; known names: '
                f'{", ".join(VOCABULARIES)} (aliases: '
                f'{", ".join(a for a in _ALIASES if a not in VOCABULARIES)}),'
                ' or pass dict(name=..., classes=[...]) for a custom dataset')
        return VOCABULARIES[key]
    if isinstance(name_or_vocab, dict):
        return _custom_vocabulary(name_or_vocab)
    raise TypeError('name_or_vocab must be a str, dict or ClassVocabulary, '
                    f'not {type(name_or_vocab).__name__}')


def _custom_vocabulary(cfg: dict) -> ClassVocabulary:
    """Build a vocabulary from a config dict (see :func:`get_vocabulary`)."""
    name = cfg.get('name', 'custom')
    unknown = sorted(set(cfg) - set(_CUSTOM_KEYS))
    if unknown:
        raise ValueError(f'vocabulary {name!r}: unknown keys {unknown}; '
                         f'expected some of {list(_CUSTOM_KEYS)}')
    if not cfg.get('classes'):
        raise ValueError(f'vocabulary {name!r}: a custom vocabulary needs '
                         'a non-empty `classes` list')
    for key in ('classes', 'definitions', 'prompt_names', 'concepts'):
        if isinstance(cfg.get(key), str):
            raise ValueError(f'vocabulary {name!r}: {key} must be a '
                             'sequence of strings, not a string')
    classes = tuple(cfg['classes'])
    prompt_names = tuple(cfg.get('prompt_names') or classes)
    definitions = cfg.get('definitions')
    if definitions is None:  # fallback; a length error names prompt_names
        names = prompt_names if len(prompt_names) == len(classes) else classes
        definitions = tuple(f'The {n} in the image.' for n in names)
    return ClassVocabulary(
        name=name,
        classes=classes,
        definitions=tuple(definitions),
        prompt_names=prompt_names,
        concepts=tuple(cfg.get('concepts') or ()))


def _checked_templates(templates) -> tuple:
    """Prompt templates as a tuple (one string is one template), each with
    exactly one ``{}``."""
    if isinstance(templates, str):
        templates = (templates, )
    for template in templates:
        if template.count('{}') != 1:
            raise ValueError(f'prompt template {template!r} must contain '
                             'exactly one "{}"')
    return tuple(templates)


def class_prompts(vocabulary: Union[str, dict, ClassVocabulary],
                  templates: Sequence[str] = PROMPT_TEMPLATES,
                  use_definitions: bool = False) -> List[List[str]]:
    """Prompts for every class, one per template.

    Each template's ``{}`` is filled with the class's prompt name. With
    ``use_definitions=True`` the class definition follows the filled
    template after a space, ``'a photo of a terrain. Low flat ground ...'``
    (a template without a final full stop gets one first).

    Args:
        vocabulary (str | dict | ClassVocabulary): Anything
            :func:`get_vocabulary` accepts.
        templates (Sequence[str]): Templates with one ``{}`` each.
            Defaults to :data:`PROMPT_TEMPLATES`.
        use_definitions (bool): Append each class's definition.
            Defaults to False.

    Returns:
        list[list[str]]: ``num_classes`` lists of ``len(templates)``
        prompts each, in label order.
    """
    vocab = get_vocabulary(vocabulary)
    templates = _checked_templates(templates)
    prompts = []
    for name, definition in zip(vocab.prompt_names, vocab.definitions):
        filled = [t.format(name) for t in templates]
        if use_definitions:
            filled = [
                f'{p if p.endswith(".") else p + "."} {definition}'
                for p in filled
            ]
        prompts.append(filled)
    return prompts


def concept_prompts(
        vocabulary: Union[str, dict, ClassVocabulary],
        templates: Sequence[str] = PROMPT_TEMPLATES) -> List[List[List[str]]]:
    """Prompts for every concept phrase of every class, one per template.

    Args:
        vocabulary (str | dict | ClassVocabulary): Anything
            :func:`get_vocabulary` accepts.
        templates (Sequence[str]): Templates with one ``{}`` each.

    Returns:
        list[list[list[str]]]: per class (label order), per concept phrase,
        ``len(templates)`` prompts. A vocabulary without concept lists
        gives one phrase per class, its prompt name, so the result then
        equals ``[[p] for p in class_prompts(vocabulary, templates)]``.

    Example:
        >>> concept_prompts('camvid', ('a photo of a {}.', ))[8][:2]
        [['a photo of a car.'], ['a photo of a van.']]
    """
    vocab = get_vocabulary(vocabulary)
    templates = _checked_templates(templates)
    return [[[t.format(phrase) for t in templates] for phrase in phrases]
            for phrases in vocab.concepts]


def caption_prompt(vocabulary: Union[str, dict, ClassVocabulary],
                   template: str = CAPTION_TEMPLATE) -> str:
    """The instruction given to a captioning VLM for this vocabulary.

    Classes named in :data:`BACKGROUND_NAMES` are left out: "background" is
    not something a caption should name.

    Args:
        vocabulary (str | dict | ClassVocabulary): Anything
            :func:`get_vocabulary` accepts.
        template (str): Instruction with one ``{}`` for the comma-joined
            prompt names. Defaults to :data:`CAPTION_TEMPLATE`.

    Returns:
        str: E.g. ``'Describe this image in one sentence, naming which of
        these appear: road, sidewalk, ...'``.
    """
    vocab = get_vocabulary(vocabulary)
    names = [
        p for c, p in zip(vocab.classes, vocab.prompt_names)
        if c not in BACKGROUND_NAMES
    ]
    return template.format(', '.join(names))
