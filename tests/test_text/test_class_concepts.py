"""Concept lists of the vocabularies and their prompts."""
import pytest

from mmseg_viladiff.text import (VOCABULARIES, class_prompts, concept_prompts,
                                 get_vocabulary)


@pytest.mark.parametrize('name', ['camvid', 'voc', 'cityscapes'])
def test_concept_lists_start_with_the_prompt_name(name):
    vocab = get_vocabulary(name)
    assert len(vocab.concepts) == vocab.num_classes
    for prompt_name, phrases in zip(vocab.prompt_names, vocab.concepts):
        assert phrases[0] == prompt_name
        assert len(set(phrases)) == len(phrases)
    # some class has several phrases, else the lists add nothing
    assert max(len(p) for p in vocab.concepts) >= 3
    # no phrase names two classes
    owners = {}
    for k, phrases in enumerate(vocab.concepts):
        for phrase in phrases:
            assert owners.setdefault(phrase, k) == k, (name, phrase)


def test_vocabularies_without_lists_have_one_phrase_per_class():
    for vocab in (VOCABULARIES['coco'], VOCABULARIES['ade20k']):
        assert vocab.concepts == tuple((p, ) for p in vocab.prompt_names)
        assert concept_prompts(
            vocab,
            ('a {}.', )) == [[p] for p in class_prompts(vocab, ('a {}.', ))]


def test_concept_prompts_fill_every_template():
    prompts = concept_prompts('camvid', ('a photo of a {}.', 'the {}'))
    car = get_vocabulary('camvid').classes.index('car')
    assert prompts[car][1] == ['a photo of a van.', 'the van']
    assert sum(len(c) for c in prompts) == sum(
        len(c) for c in get_vocabulary('camvid').concepts)
    with pytest.raises(ValueError, match='exactly one'):
        concept_prompts('camvid', ('no slot', ))


def test_custom_concepts_and_their_errors():
    vocab = get_vocabulary(
        dict(name='toy', classes=['a', 'b'], concepts=[['a', 'x'], ['b']]))
    assert vocab.concepts == (('a', 'x'), ('b', ))
    for concepts, match in ((['a', 'b'], r'concepts\[0\] must be a non-empty'),
                            ([['a']], 'concepts has 1 entries'),
                            ([['a'], []], r'concepts\[1\]'),
                            ('ab', 'concepts must be a sequence')):
        with pytest.raises(ValueError, match=match):
            get_vocabulary(
                dict(name='toy', classes=['a', 'b'], concepts=concepts))
