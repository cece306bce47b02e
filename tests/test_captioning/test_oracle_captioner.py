"""OracleCaptioner (diagnostic, reads labels): captions from label maps,
and the caption tool's oracle backends end to end."""
import glob
import os.path as osp

import numpy as np
import pytest
from captioning_helpers import synthetic_caption_config
from PIL import Image
from tools_loader import load_tool

from mmseg_viladiff.captioning import (ImageItem, OracleCaptioner,
                                       read_captions, read_label_map)
from mmseg_viladiff.utils import ConfigError, DataError

NAMES = ('sky', 'road', 'pole', 'car', 'background')

generate_captions = load_tool('generate_captions')


def oracle(**kwargs):
    with pytest.warns(UserWarning, match='reads the labels'):
        return OracleCaptioner(NAMES, **kwargs)


def scene():
    """60x90: sky in the top third, road on the bottom third, a pole 1
    pixel wide in the middle-left cell, three separate cars at the bottom,
    255 (ignored) elsewhere."""
    seg = np.full((60, 90), 255, np.uint8)
    seg[:18] = 0  # sky, in the top third
    seg[40:] = 1  # road, bottom third
    seg[22:38, 10] = 2  # thin pole, middle left only
    for x in (35, 50, 65):
        seg[50:54, x:x + 4] = 3  # three small cars, bottom center
    return seg


def test_names_exactly_the_classes_of_the_mask():
    captioner = oracle()
    seg = scene()
    assert captioner.present_classes(seg) == ['road', 'sky', 'car', 'pole']
    text = captioner.caption_seg(seg)
    for name in ('sky', 'road', 'pole', 'car'):
        assert name in text
    assert 'background' not in text  # absent, and never named anyway
    # a class of the map that is absent from another map is not named
    seg[seg == 2] = 255
    assert 'pole' not in captioner.caption_seg(seg)
    # min_area drops the classes below that share of labelled pixels
    assert oracle(min_area=0.05).present_classes(scene()) == ['road', 'sky']


def test_size_and_position_words():
    text = oracle().caption_seg(scene())
    assert 'large road at the bottom' in text
    assert 'large sky at the top' in text
    assert 'small pole on the left' in text
    assert 'small car at the bottom' in text
    assert text.index('road') < text.index('sky') < text.index('car')


def test_regions_list_each_cell_and_count_small_objects():
    text = oracle(variant='oracle-regions').caption_seg(scene())
    cells = dict(
        part.split(': ', 1) for part in text.rstrip('.').split('. ')
        if ': ' in part)
    assert cells['top left'] == cells['top right'] == 'sky'
    # the 1-pixel pole is in its cell, and in no other
    assert cells['middle left'] == 'pole'
    assert [k for k, v in cells.items()
            if 'pole' in v and k != 'counts'] == ['middle left']
    assert cells['bottom center'] == 'road, car'
    # three separate cars and one pole; sky and road are not small
    assert cells['counts'] == '1 pole, 3 car'


def test_components_below_min_component_are_not_counted():
    seg = scene()
    seg[5, 5] = 3  # a one-pixel car fragment
    # 0.001 of 60x90 pixels: components of at least 5 pixels
    captioner = oracle(variant='oracle-regions', min_component=0.001)
    assert ('car', 3) in captioner.component_counts(seg)
    assert ('car', 4) in oracle(
        variant='oracle-regions', min_component=0).component_counts(seg)


def test_label_map_and_ignore_are_applied(tmp_path):
    seg = scene()
    seg[seg == 255] = 11  # CamVid's "Unlabelled", mapped to 255
    path = str(tmp_path / 'label.png')
    Image.fromarray(seg).save(path)
    item = ImageItem('a.png', 'a.png', seg_path=path, label_map=((11, 255), ))
    assert (read_label_map(item) == scene()).all()
    assert oracle().caption_items([item]) == [oracle().caption_seg(scene())]
    # without the map, label 11 is no class of the 5 names: a clear error
    with pytest.raises(DataError, match='label 11'):
        oracle().caption_items([ImageItem('a.png', 'a.png', seg_path=path)])


def test_errors():
    with pytest.raises(ConfigError, match='oracle variant'):
        OracleCaptioner(NAMES, variant='oracle-grid')
    with pytest.raises(DataError, match='no label map'):
        oracle().caption_items([ImageItem('a.png', 'a.png')])
    with pytest.raises(ConfigError, match='label maps, not images'):
        oracle().caption([])


def test_tool_captions_every_image_from_its_labels(tmp_path, synthetic_root):
    """Unlabeled (with_label=False) and val images included: the oracle
    reads every label map, the records say which captioner wrote them."""
    config = synthetic_caption_config(str(tmp_path), synthetic_root)
    out = str(tmp_path / 'oracle.jsonl')
    with pytest.warns(UserWarning, match='reads the labels'):
        generate_captions.main(
            [config, '--out', out, '--captioner', 'oracle', '--no-progress'])
    records = read_captions(out)
    images = glob.glob(osp.join(synthetic_root, 'img_dir/*/*.png'))
    assert len(records) == len(images) == 20
    assert {r['captioner'] for r in records.values()} == {'oracle'}
    classes = ('background', 'disc', 'square', 'triangle')
    for key, record in records.items():
        label = osp.join(synthetic_root, key.replace('img_dir', 'ann_dir', 1))
        present = {classes[c] for c in np.unique(np.array(Image.open(label)))}
        named = {c for c in classes[1:] if c in record['caption']}
        assert named == present - {'background'}, (key, record['caption'])
    with pytest.raises(ConfigError, match='give a config'):
        generate_captions.main([
            synthetic_root, '--out',
            str(tmp_path / 'x.jsonl'), '--captioner', 'oracle-regions'
        ])
