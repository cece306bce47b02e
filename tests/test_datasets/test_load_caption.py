"""LoadCaption: the caption cache attached to each data sample."""
import json
import os.path as osp
import shutil

import pytest
from mmseg.registry import DATASETS, TRANSFORMS

from mmseg_viladiff.captioning import make_record
from mmseg_viladiff.datasets.transforms import load_caption
from mmseg_viladiff.datasets.transforms.load_caption import LoadCaption
from mmseg_viladiff.utils import ConfigError, DataError


def _captions(root):
    with open(osp.join(root, 'captions.jsonl')) as f:
        return {r['image']: r['caption'] for r in map(json.loads, f)}


def test_attaches_each_images_caption(synthetic_root):
    expected = _captions(synthetic_root)
    transform = TRANSFORMS.build(
        dict(
            type='LoadCaption',
            cache_file=osp.join(synthetic_root, 'captions.jsonl'),
            data_root=synthetic_root))
    for key in ('img_dir/train/train_0003.png', 'img_dir/val/val_0001.png'):
        results = transform(dict(img_path=osp.join(synthetic_root, key)))
        assert results['caption'] == expected[key]


def test_caption_reaches_the_data_sample_through_a_dataset(synthetic_root):
    expected = _captions(synthetic_root)
    dataset = DATASETS.build(
        dict(
            type='SyntheticShapesDataset',
            data_root=synthetic_root,
            data_prefix=dict(
                img_path='img_dir/val', seg_map_path='ann_dir/val'),
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(
                    type='LoadCaption',
                    cache_file='captions.jsonl',
                    data_root=synthetic_root),
                dict(type='LoadAnnotations'),
                dict(
                    type='PackSegInputs',
                    meta_keys=('img_path', 'ori_shape', 'img_shape',
                               'caption'))
            ]))
    assert len(dataset) == 4
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        key = osp.relpath(sample.img_path, synthetic_root)
        assert sample.caption == expected[key] != ''


def test_missing_caption_error_names_image_and_cache(synthetic_root, tmp_path):
    cache = str(tmp_path / 'partial.jsonl')
    with open(cache, 'w') as f:
        f.write(
            json.dumps(
                make_record('img_dir/val/val_0000.png', 'one disc.', 'hf', 'm',
                            None)) + '\n')
    strict = LoadCaption(cache, synthetic_root)
    img = osp.join(synthetic_root, 'img_dir/val/val_0002.png')
    with pytest.raises(DataError) as err:
        strict(dict(img_path=img))
    message = str(err.value)
    assert "'img_dir/val/val_0002.png'" in message and cache in message
    assert 'tools/generate_captions.py' in message
    elsewhere = LoadCaption(cache, osp.join(synthetic_root, 'ann_dir'))
    with pytest.raises(DataError, match="outside LoadCaption's data_root"):
        elsewhere(dict(img_path=img))
    lenient = LoadCaption(cache, synthetic_root, on_missing='empty')
    assert lenient(dict(img_path=img))['caption'] == ''
    first = osp.join(synthetic_root, 'img_dir/val/val_0000.png')
    assert lenient(dict(img_path=first))['caption'] == 'one disc.'


def test_bad_arguments_and_missing_file(synthetic_root, tmp_path):
    with pytest.raises(ConfigError, match="on_missing must be one of"):
        LoadCaption('captions.jsonl', synthetic_root, on_missing='ignore')
    transform = LoadCaption(str(tmp_path / 'none.jsonl'), synthetic_root)
    with pytest.raises(DataError, match='caption file not found'):
        transform(dict(img_path=osp.join(synthetic_root, 'x.png')))
    with pytest.raises(DataError, match=r'without img_path \(in memory\)'):
        transform(dict(img=None))


def test_skip_leaves_uncaptioned_images_without_caption(
        synthetic_root, tmp_path):
    """Test pipelines: any image passes; only captioned ones get one."""
    expected = _captions(synthetic_root)
    key = 'img_dir/val/val_0001.png'
    img = osp.join(synthetic_root, key)
    skip = LoadCaption('captions.jsonl', synthetic_root, on_missing='skip')
    assert skip(dict(img_path=img))['caption'] == expected[key]
    elsewhere = str(tmp_path / 'new.png')
    assert 'caption' not in skip(dict(img_path=elsewhere))
    assert 'caption' not in skip(dict(img_path=None, img=0))
    # a missing caption file (e.g. a checkpoint used on another machine)
    no_file = LoadCaption(
        str(tmp_path / 'none.jsonl'), synthetic_root, on_missing='skip')
    assert 'caption' not in no_file(dict(img_path=img))
    empty = LoadCaption('captions.jsonl', synthetic_root, on_missing='empty')
    assert empty(dict(img_path=None, img=0))['caption'] == ''


def test_relative_cache_file_is_looked_up_under_data_root(
        synthetic_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    transform = LoadCaption('captions.jsonl', synthetic_root)
    assert transform.resolved_cache_file == osp.join(synthetic_root,
                                                     'captions.jsonl')
    # a file of that name in the working directory wins
    shutil.copy(osp.join(synthetic_root, 'captions.jsonl'), tmp_path)
    assert transform.resolved_cache_file == 'captions.jsonl'


def test_cache_is_read_once_and_again_when_the_file_changes(
        tmp_path, monkeypatch):
    root = str(tmp_path)
    cache = osp.join(root, 'c.jsonl')
    with open(cache, 'w') as f:
        f.write(json.dumps(make_record('a.png', 'first', 'hf', 'm', None)))
        f.write('\n')
    reads = []
    real = load_caption.read_captions
    monkeypatch.setattr(load_caption, 'read_captions',
                        lambda path: reads.append(path) or real(path))
    transform = LoadCaption(cache, root, on_missing='empty')
    img = osp.join(root, 'a.png')
    for _ in range(3):
        assert transform(dict(img_path=img))['caption'] == 'first'
    assert len(reads) == 1
    with open(cache, 'a') as f:
        f.write(json.dumps(make_record('b.png', 'second', 'hf', 'm', None)))
        f.write('\n')
    out = transform(dict(img_path=osp.join(root, 'b.png')))
    assert out['caption'] == 'second' and len(reads) == 2
