import dataclasses

import pytest
from mmseg.datasets import (ADE20KDataset, CityscapesDataset, COCOStuffDataset,
                            PascalVOCDataset)

from mmseg_viladiff.datasets import CamVidDataset
from mmseg_viladiff.text import (PROMPT_TEMPLATES, VOCABULARIES,
                                 ClassVocabulary, caption_prompt,
                                 class_prompts, get_vocabulary)

DATASETS = dict(
    voc=PascalVOCDataset,
    cityscapes=CityscapesDataset,
    ade20k=ADE20KDataset,
    camvid=CamVidDataset)


@pytest.mark.parametrize('key, dataset', DATASETS.items())
def test_classes_match_dataset_metainfo(key, dataset):
    assert VOCABULARIES[key].classes == tuple(dataset.METAINFO['classes'])


def test_coco81_is_background_plus_coco_things():
    # COCO-Stuff's first 80 labels are the 80 thing classes in COCO order
    things = COCOStuffDataset.METAINFO['classes'][:80]
    coco = VOCABULARIES['coco']
    assert coco.classes == ('background', ) + tuple(things)
    assert coco.classes[1] == 'person' and coco.classes[-1] == 'toothbrush'


def test_counts_and_text_quality():
    counts = {k: v.num_classes for k, v in VOCABULARIES.items()}
    assert counts == dict(
        voc=21, cityscapes=19, coco=81, ade20k=150, camvid=11)
    for key, vocab in VOCABULARIES.items():
        assert vocab.name == key
        assert len(vocab.definitions) == len(vocab.prompt_names) == \
            vocab.num_classes
        # one line each, a full sentence, and no copy-pasted duplicates
        for text in vocab.definitions:
            assert text.strip() and '\n' not in text and text.endswith('.')
            assert text[0].isupper() and len(text) <= 160
        assert len(set(vocab.definitions)) == vocab.num_classes
        assert len(set(vocab.prompt_names)) == vocab.num_classes
        assert all(p == p.strip() for p in vocab.prompt_names)


def test_prompt_names_and_confusable_definitions():
    voc, ade = VOCABULARIES['voc'], VOCABULARIES['ade20k']
    assert voc.prompt_names[voc.classes.index('pottedplant')] == \
        'potted plant'
    assert voc.prompt_names[voc.classes.index('tvmonitor')] == 'tv monitor'
    assert voc.prompt_names[voc.classes.index('person')] == 'person'
    assert ade.prompt_names[ade.classes.index('bed ')] == 'bed'
    assert ade.prompt_names[ade.classes.index('windowpane')] == 'window'
    camvid = VOCABULARIES['camvid']
    assert camvid.prompt_names[6] == 'sign symbol'

    def definition(vocab, name):
        return vocab.definitions[vocab.classes.index(name)].lower()

    city = VOCABULARIES['cityscapes']
    assert 'vegetation' in definition(city, 'terrain')
    assert 'terrain' in definition(city, 'vegetation')
    assert 'riding' in definition(city, 'rider')
    assert 'sidewalk' in definition(city, 'road')
    assert 'pavement' in definition(camvid, 'road')
    assert 'poles' in definition(camvid, 'signsymbol')
    assert 'sign' in definition(camvid, 'pole')


def test_class_prompts_fill_templates():
    vocab = get_vocabulary('voc')
    prompts = class_prompts(vocab)
    assert len(prompts) == 21
    assert all(len(p) == len(PROMPT_TEMPLATES) for p in prompts)
    assert all('{' not in s and '}' not in s for p in prompts for s in p)
    assert prompts[16][0] == PROMPT_TEMPLATES[0].format('potted plant')

    single = class_prompts('cityscapes', templates='a photo of a {}.')
    assert single[9] == ['a photo of a terrain.']
    with pytest.raises(ValueError, match='exactly one'):
        class_prompts('voc', templates=['no slot here.'])


def test_class_prompts_with_definitions():
    vocab = get_vocabulary('cityscapes')
    templates = ('a photo of a {}.', 'itap of a {}')
    plain = class_prompts(vocab, templates)
    full = class_prompts(vocab, templates, use_definitions=True)
    for k in range(vocab.num_classes):
        for plain_p, full_p in zip(plain[k], full[k]):
            assert full_p.startswith(plain_p)
            assert full_p.endswith(' ' + vocab.definitions[k])
    assert full[9][1] == f'itap of a terrain. {vocab.definitions[9]}'


def test_caption_prompt():
    text = caption_prompt('camvid')
    assert text.startswith('Describe this image')
    assert text.endswith('sky, building, pole, road, pavement, tree, '
                         'sign symbol, fence, car, pedestrian, bicyclist.')
    voc_text = caption_prompt('voc')
    assert 'background' not in voc_text and 'potted plant' in voc_text
    assert caption_prompt(
        'voc', template='Name: {}').startswith('Name: aeroplane, bicycle')


@pytest.mark.parametrize('alias, key',
                         [('VOC', 'voc'), ('pascal_voc', 'voc'),
                          ('Pascal-VOC', 'voc'), ('ade', 'ade20k'),
                          ('ADE20K', 'ade20k'), ('cityscapes', 'cityscapes'),
                          ('coco81', 'coco'), ('COCO', 'coco'),
                          ('CamVid', 'camvid')])
def test_aliases_resolve(alias, key):
    assert get_vocabulary(alias) is VOCABULARIES[key]


def test_unknown_name_lists_known_names():
    with pytest.raises(KeyError) as info:
        get_vocabulary('kitti')
    message = str(info.value)
    assert 'kitti' in message
    for key in VOCABULARIES:
        assert key in message
    with pytest.raises(TypeError, match='str, dict or ClassVocabulary'):
        get_vocabulary(3)


def test_custom_dict_vocabulary():
    vocab = get_vocabulary(
        dict(name='toy', classes=['bg', 'red_box'], prompt_names=['x', 'y']))
    assert vocab.num_classes == 2 and vocab.classes == ('bg', 'red_box')
    assert vocab.definitions == ('The x in the image.', 'The y in the image.')
    assert get_vocabulary(vocab) is vocab

    vocab = get_vocabulary(
        dict(classes=('cat', 'dog'), definitions=['A cat.', 'A dog.']))
    assert vocab.name == 'custom' and vocab.prompt_names == ('cat', 'dog')
    assert class_prompts(
        vocab, ['{}'], use_definitions=True) == [['cat. A cat.'],
                                                 ['dog. A dog.']]
    with pytest.raises(dataclasses.FrozenInstanceError):
        vocab.name = 'other'


@pytest.mark.parametrize('cfg, match', [
    (dict(name='toy', classes=['a', 'b'], definitions=['A.']),
     r"'toy': definitions has 1 entries but classes has 2"),
    (dict(name='toy', classes=['a', 'b'], prompt_names=['a']),
     r"'toy': prompt_names has 1 entries but classes has 2"),
    (dict(name='toy', classes=['a', 'a']),
     r"'toy': classes\[1\] 'a' repeats classes\[0\]"),
    (dict(name='toy', classes=['a', ' ']), r"'toy': classes\[1\] is empty"),
    (dict(name='toy', classes=['a'],
          definitions=['']), r"'toy': definitions\[0\] is empty"),
    (dict(name='toy', classes='ab'), r'classes must be a sequence'),
    (dict(name='toy'), r'needs a non-empty `classes`'),
    (dict(name='toy', classes=['a'],
          palette=[]), r"unknown keys \['palette'\]"),
])
def test_bad_custom_dict_names_the_field(cfg, match):
    with pytest.raises(ValueError, match=match):
        get_vocabulary(cfg)


def test_dataclass_validation_directly():
    with pytest.raises(ValueError, match=r"'v': definitions has 0 entries"):
        ClassVocabulary('v', ('a', ), ())
    vocab = ClassVocabulary('v', ['a'], ['An a.'])
    assert vocab.classes == ('a', ) and vocab.prompt_names == ('a', )
