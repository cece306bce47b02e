import itertools
import os.path as osp

import numpy as np
import pytest
from mmengine.dataset import ConcatDataset, pseudo_collate
from mmseg.registry import DATASETS, MODELS

from mmseg_viladiff.datasets import (LabeledUnlabeledSampler, MultiViewPack,
                                     StrongPhotometricAug)
from mmseg_viladiff.utils import ConfigError


def _part(root, split, pipeline, with_label=True):
    return dict(
        type='PartitionDataset',
        dataset=dict(
            type='SyntheticShapesDataset',
            data_root=root,
            data_prefix=dict(
                img_path='img_dir/train', seg_map_path='ann_dir/train'),
            pipeline=pipeline),
        split_file=f'splits/{split}.txt',
        with_label=with_label)


LABELED = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size=(48, 48)),
    dict(type='MultiViewPack', views=dict(sup=[]))
]
UNLABELED = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=(48, 48)),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='MultiViewPack',
        views=dict(
            unsup_weak=[],
            unsup_strong=[dict(type='StrongPhotometricAug', blur_prob=0)]))
]


def _semi_dataset(root):
    return ConcatDataset([
        _part(root, 'labeled', LABELED),
        _part(root, 'unlabeled', UNLABELED, False)
    ])


def test_sampler_batches_follow_the_ratio_and_split_ranks(
        synthetic_root, monkeypatch):
    ds = _semi_dataset(synthetic_root)  # 4 labeled, 12 unlabeled
    sampler = LabeledUnlabeledSampler(
        ds, batch_size=6, source_ratio=(1, 2), seed=0)
    idx = list(itertools.islice(iter(sampler), 60))
    for b in range(10):
        batch = idx[6 * b:6 * b + 6]
        assert all(i < 4 for i in batch[:2]) and all(i >= 4 for i in batch[2:])
    # every labeled and unlabeled sample is visited within a pass
    assert set(i for i in idx if i < 4) == set(range(4))
    assert set(i for i in idx if i >= 4) == set(range(4, 16))
    # two processes: disjoint samples within each pass, same seed
    streams = []
    for rank in (0, 1):
        monkeypatch.setattr(
            'mmseg_viladiff.datasets.samplers.labeled_unlabeled_sampler.'
            'get_dist_info',
            lambda r=rank: (r, 2))
        s = LabeledUnlabeledSampler(ds, batch_size=4, seed=0)
        streams.append(list(itertools.islice(iter(s), 12)))
    for b in range(3):
        r0, r1 = (st[4 * b:4 * b + 4] for st in streams)
        assert not set(r0[:2]) & set(r1[:2])  # labeled
        assert not set(r0[2:]) & set(r1[2:])  # unlabeled
    lab0 = [i for i in streams[0][:4] if i < 4]
    lab1 = [i for i in streams[1][:4] if i < 4]
    assert sorted(lab0 + lab1) == [0, 1, 2, 3]  # one pass split in two


@pytest.mark.parametrize('kwargs, match', [
    (dict(batch_size=4, source_ratio=(1, 0)), 'source_ratio'),
    (dict(batch_size=5, source_ratio=(1, 1)), 'batch_size'),
])
def test_sampler_rejects_bad_ratio(synthetic_root, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        LabeledUnlabeledSampler(_semi_dataset(synthetic_root), **kwargs)


def test_empty_unlabeled_partition_names_the_file(synthetic_root, tmp_path):
    empty = tmp_path / 'empty.txt'
    empty.write_text('# nothing here\n')
    cfg = _part(synthetic_root, 'unlabeled', UNLABELED, False)
    cfg['split_file'] = str(empty)
    with pytest.raises(Exception, match='empty.txt lists no images'):
        DATASETS.build(cfg)


def test_views_share_geometry_and_collate_by_branch(synthetic_root):
    ds = _semi_dataset(synthetic_root)
    np.random.seed(0)
    sample = ds[5]  # unlabeled
    weak = sample['inputs']['unsup_weak']
    strong = sample['inputs']['unsup_strong']
    assert sample['inputs']['sup'] is None
    assert weak.shape == strong.shape == (3, 48, 48)
    assert 'gt_sem_seg' not in sample['data_samples']['unsup_weak']
    assert sample['data_samples']['unsup_weak'].metainfo['flip'] == \
        sample['data_samples']['unsup_strong'].metainfo['flip']
    batch = pseudo_collate([ds[0], ds[1], ds[4], ds[5]])
    pre = MODELS.build(
        dict(
            type='SemiSegDataPreProcessor',
            mean=[0.] * 3,
            std=[1.] * 3,
            size=(48, 48)))
    out = pre(batch, training=True)
    assert out['inputs']['sup'].shape == (2, 3, 48, 48)
    assert out['inputs']['unsup_weak'].shape == (2, 3, 48, 48)
    assert out['inputs']['unsup_strong'].shape == (2, 3, 48, 48)
    assert len(out['data_samples']['sup']) == 2


def test_strong_aug_changes_colours_not_geometry():
    rng = np.random.RandomState(0)
    img = np.zeros((32, 32, 3), np.uint8)
    img[8:24, 8:24] = (30, 200, 90)
    img += rng.randint(0, 10, img.shape).astype(np.uint8)
    np.random.seed(1)
    out = StrongPhotometricAug(
        jitter_prob=1, grey_prob=1, blur_prob=0)(dict(img=img.copy()))['img']
    assert out.shape == img.shape and out.dtype == np.uint8
    assert (out[..., 0] == out[..., 1]).all()  # greyscale
    inside, outside = out[8:24, 8:24].mean(), out[:6].mean()
    assert abs(inside - outside) > 10  # the square is still where it was
    with pytest.raises(ValueError, match='grey_prob'):
        StrongPhotometricAug(grey_prob=2)


def test_unlabeled_pipeline_never_opens_label_files(synthetic_root,
                                                    monkeypatch):
    import mmengine.fileio
    opened = []
    real_get = mmengine.fileio.get

    def spy(path, *args, **kwargs):
        opened.append(str(path))
        return real_get(path, *args, **kwargs)

    monkeypatch.setattr(mmengine.fileio, 'get', spy)
    import mmcv.transforms.loading
    import mmseg.datasets.transforms.loading
    monkeypatch.setattr(mmcv.transforms.loading.fileio, 'get', spy)
    monkeypatch.setattr(mmseg.datasets.transforms.loading.fileio, 'get', spy)
    ds = DATASETS.build(_part(synthetic_root, 'unlabeled', UNLABELED, False))
    for i in range(len(ds)):
        ds[i]
    assert len(opened) == len(ds)
    assert all('img_dir' in p for p in opened)
    assert not any('ann_dir' in p for p in opened)


@pytest.mark.parametrize('config', [
    'meanteacher_effnetl0_camvid_1-8.py', 'meanteacher_r101_voc_1-16.py',
    'meanteacher_effnetl0_synthetic.py', 'unimatch_effnetl0_camvid_1-8.py',
    'unimatch_r101_voc_1-16.py',
    '../examples/meanteacher_effnetl0_custom-dataset.py'
])
def test_shipped_unlabeled_pipelines_load_no_labels(config):
    from mmengine.config import Config

    from conftest import REPO_ROOT
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs/viladiff', config))
    unlabeled = cfg.train_dataloader.dataset.datasets[1]
    assert unlabeled.with_label is False
    inner = unlabeled.dataset
    leaves = inner.datasets if inner.type == 'ConcatDataset' else [inner]
    for leaf in leaves:
        steps = [t['type'] for t in leaf.pipeline]
        assert 'LoadAnnotations' not in steps
        for t in leaf.pipeline:  # label-driven crops would peek at labels
            assert t.get('cat_max_ratio', 1.0) == 1.0


def test_truly_unlabeled_images_without_any_label_files(tmp_path):
    from PIL import Image
    root = tmp_path / 'raw'
    (root / 'images').mkdir(parents=True)
    for i in range(3):
        Image.fromarray(np.full(
            (40, 40, 3), 40 * i,
            np.uint8)).save(root / 'images' / f'frame_{i}.png')
    (root / 'unlabeled.txt').write_text('frame_0\nframe_2\n')
    ds = DATASETS.build(
        dict(
            type='PartitionDataset',
            dataset=dict(
                type='SyntheticShapesDataset',
                data_root=str(root),
                data_prefix=dict(img_path='images'),
                pipeline=UNLABELED),
            split_file='unlabeled.txt',
            with_label=False))
    assert len(ds) == 2
    assert ds[1]['inputs']['unsup_weak'].shape == (3, 40, 40)
    assert osp.basename(ds.get_data_info(1)['img_path']) == 'frame_2.png'


def test_multi_view_pack_rejects_unknown_branch():
    with pytest.raises(ValueError, match='teacher'):
        MultiViewPack(views=dict(teacher=[]))
