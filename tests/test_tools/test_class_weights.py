"""tools/class_weights.py on a tiny CamVid-layout dataset written here."""
import json

import numpy as np
import pytest
from PIL import Image
from tools_loader import load_tool

from mmseg_viladiff.utils import DataError
from mmseg_viladiff.utils.class_weights import (accumulate_counts,
                                                class_weights_from_counts,
                                                count_label_pixels)

class_weights = load_tool('class_weights')


def _write(root, name, label):
    for folder in ('train', 'trainannot'):
        (root / folder).mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros(label.shape + (3, ), np.uint8)).save(
        root / 'train' / f'{name}.png')
    if label is not None:
        Image.fromarray(label.astype(np.uint8)).save(root / 'trainannot' /
                                                     f'{name}.png')


def _config(tmp_path, semi):
    root = tmp_path / 'camvid'
    # a: 12 px sky (0), 4 px pole (2); b: 8 sky, 6 road (3), 2 unlabelled
    a = np.zeros((4, 4), np.uint8)
    a[0] = 2
    b = np.zeros((4, 4), np.uint8)
    b[:2, :3] = 3
    b[3, 3] = b[2, 3] = 11
    _write(root, 'a', a)
    _write(root, 'b', b)
    _write(root, 'u', np.full((4, 4), 10, np.uint8))  # unlabeled: bicyclist
    (root / 'train.txt').write_text('a\nb\nu\n')
    (root / 'labeled.txt').write_text('a\nb\n')
    (root / 'unlabeled.txt').write_text('u\n')
    camvid = dict(
        type='CamVidDataset',
        data_root=str(root),
        ann_file='train.txt',
        data_prefix=dict(img_path='train', seg_map_path='trainannot'),
        pipeline=[])
    labeled = dict(
        type='PartitionDataset', dataset=camvid, split_file='labeled.txt')
    dataset = labeled if not semi else dict(
        type='ConcatDataset',
        datasets=[
            labeled,
            dict(
                type='PartitionDataset',
                dataset=camvid,
                split_file='unlabeled.txt',
                with_label=False)
        ])
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(
        "custom_imports = dict(imports=['mmseg_viladiff'], "
        "allow_failed_imports=False)\ndefault_scope = 'mmseg'\n"
        f'train_dataloader = dict(dataset={dataset!r})\n')
    return cfg


@pytest.mark.parametrize('semi', [False, True])
def test_tool_counts_labeled_images_only(tmp_path, semi):
    cfg = _config(tmp_path, semi)
    out = tmp_path / 'w.json'
    class_weights.main([str(cfg), '--out', str(out)])
    result = json.loads(out.read_text())
    counts = result['pixel_counts']
    # 11 -> ignored; the unlabeled image's bicyclists are never counted
    assert counts == [20, 0, 4, 6, 0, 0, 0, 0, 0, 0, 0]
    assert result['labeled_images'] == 2
    # median frequency: f_sky = 20/30, f_pole = 4/16, f_road = 6/14
    freq = np.array([20 / 30, 4 / 16, 6 / 14])
    expected = np.median(freq) / freq
    np.testing.assert_allclose(
        np.array(result['class_weight'])[[0, 2, 3]], expected, atol=1e-4)
    # absent classes get the largest present weight
    assert result['class_weight'][1] == pytest.approx(expected.max(),
                                                      abs=1e-4)


def test_enet_weights_and_label_checks():
    per_image = [np.array([3, 1, 0]), np.array([4, 0, 0])]
    counts, image_counts = accumulate_counts(per_image)
    assert counts.tolist() == [7, 1, 0] and image_counts.tolist() == [8, 4, 0]
    w = class_weights_from_counts(counts, image_counts, 'enet')
    np.testing.assert_allclose(w[:2], 1 / np.log(1.02 + np.array([7, 1]) / 8))
    assert w[1] > w[0] and w[2] == w[1]
    label = np.array([[0, 1], [255, 7]])
    with pytest.raises(DataError, match='x.png.*\\[7\\]'):
        count_label_pixels(label, 3, source='x.png')
    # MMSeg's reduce_zero_label: 0 -> ignored, v -> v - 1
    assert count_label_pixels(
        np.array([[0, 1], [2, 2]]), 2,
        reduce_zero_label=True).tolist() == [1, 2]
    assert count_label_pixels(
        np.array([[5, 1]]), 2, label_map={5: 0}).tolist() == [1, 1]
