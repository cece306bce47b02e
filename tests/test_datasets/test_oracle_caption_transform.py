"""OracleCaptionFromLabel: a crop's caption from the crop's own labels, and
the diagnostic config that uses it."""
import os.path as osp
import warnings

import numpy as np
import pytest
from conftest import REPO_ROOT
from mmengine.config import Config

from mmseg_viladiff.datasets.transforms import OracleCaptionFromLabel
from mmseg_viladiff.utils import DataError

NAMES = ('sky', 'road', 'car')
CONFIG = osp.join(REPO_ROOT, 'configs', 'viladiff',
                  'vl-sup_effnetl0_camvid_1-8_crop-oracle.py')


def make(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # the oracle's diagnostic warning
        return OracleCaptionFromLabel(NAMES, **kwargs)


def test_caption_follows_the_flipped_crop():
    seg = np.zeros((6, 6), np.uint8)  # sky everywhere
    seg[3:, :] = 1  # road below
    seg[4:, :2] = 2  # a car at the bottom left
    caption = make()(dict(gt_seg_map=seg))['caption']
    assert 'bottom left: car.' in caption and 'bottom right: road.' in caption
    flipped = make()(dict(gt_seg_map=seg[:, ::-1].copy()))['caption']
    assert 'bottom right: car.' in flipped and 'bottom left: road.' in flipped
    # a crop without the car does not name it
    assert 'car' not in make()(dict(gt_seg_map=seg[:, 3:]))['caption']


def test_presence_variant_and_missing_label_map():
    seg = np.full((4, 4), 2, np.uint8)
    assert 'car' in make(variant='oracle')(dict(gt_seg_map=seg))['caption']
    with pytest.raises(DataError, match='after LoadAnnotations'):
        make()(dict(img_path='a.png'))


def test_crop_oracle_config_captions_crops_and_reads_files_at_test():
    cfg = Config.fromfile(CONFIG)
    train = [t['type'] for t in cfg.train_dataloader.dataset.dataset.pipeline]
    assert 'LoadCaption' not in train
    assert train.index('OracleCaptionFromLabel') > train.index('RandomFlip')
    assert train[-1] == 'PackSegInputs'
    test = [t['type'] for t in cfg.test_dataloader.dataset.pipeline]
    assert 'LoadCaption' in test
    assert cfg.model.promptor.cache_dir is None
    # the names are the dataset's, in its order
    from mmseg_viladiff.datasets import CamVidDataset
    oracle = cfg.train_dataloader.dataset.dataset.pipeline[-2]
    assert tuple(oracle.class_names) == CamVidDataset.METAINFO['classes']


def test_drop_label_removes_the_map_after_captioning():
    seg = np.full((4, 4), 2, np.uint8)
    out = make(drop_label=True)(dict(gt_seg_map=seg, seg_fields=['gt_seg_map']))
    assert 'car' in out['caption']
    assert 'gt_seg_map' not in out and out['seg_fields'] == []
    assert 'gt_seg_map' in make()(dict(gt_seg_map=seg))


def test_mean_teacher_crop_oracle_config_hides_unlabeled_labels():
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'viladiff',
                 'meanteacher-vl_effnetl0_camvid_1-8_crop-oracle.py'))
    labeled, unlabeled = cfg.train_dataloader.dataset.datasets
    for part in (labeled, unlabeled):
        steps = part.dataset.pipeline
        types = [t['type'] for t in steps]
        assert 'LoadCaption' not in types
        oracle = types.index('OracleCaptionFromLabel')
        assert types.index('RandomFlip') < oracle == len(types) - 2
    # the unlabeled crops' labels are read for the caption, then dropped
    assert unlabeled.with_label
    assert unlabeled.dataset.pipeline[-2].drop_label
    assert not labeled.dataset.pipeline[-2].get('drop_label', False)
    assert 'LoadCaption' in [t['type'] for t in cfg.test_dataloader.dataset.pipeline]
