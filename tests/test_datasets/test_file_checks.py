import os
import os.path as osp

import pytest

from mmseg_viladiff.datasets.file_checks import (build_seg_dataset,
                                                 check_seg_files,
                                                 describe_folder,
                                                 same_stem_files)
from mmseg_viladiff.utils import DataError


def _touch(*paths):
    for path in paths:
        os.makedirs(osp.dirname(path), exist_ok=True)
        open(path, 'w').close()


def test_describe_folder_counts_the_suffixes_found(tmp_path):
    folder = str(tmp_path / 'img')
    _touch(*[osp.join(folder, f'{i}.png') for i in range(3)],
           osp.join(folder, 'sub', 'x.tif'))
    assert describe_folder(folder, '.jpg') == (
        f"no file under '{folder}' ends with '.jpg'; it holds 3 files ending "
        "'.png', 1 files ending '.tif' (e.g. '0.png')")
    assert describe_folder(
        str(tmp_path / 'nope'),
        '.jpg') == (f"the folder '{tmp_path / 'nope'}' does not exist")


def test_same_stem_files_ignores_longer_names(tmp_path):
    _touch(
        *[str(tmp_path / n) for n in ('a.jpg', 'a_mask.png', 'a1.png', 'a')])
    assert same_stem_files(str(tmp_path / 'a.png'),
                           '.png') == ['a.jpg', 'a_mask.png']


def _seg_cfg(root, **kwargs):
    cfg = dict(
        type='BaseSegDataset',
        data_root=root,
        data_prefix=dict(img_path='img', seg_map_path='ann'),
        img_suffix='.png',
        metainfo=dict(classes=('a', 'b')))
    cfg.update(kwargs)
    return cfg


def test_build_seg_dataset_explains_an_empty_file_list(tmp_path):
    root = str(tmp_path)
    _touch(osp.join(root, 'img', 'x.jpeg'))
    # MMSeg alone: "ValueError: need at least one array to concatenate"
    with pytest.raises(DataError) as err:
        build_seg_dataset(_seg_cfg(root), 'my set')
    assert str(err.value) == (
        "my set (BaseSegDataset) found no images: no file under "
        f"'{root}/img' ends with '.png'; it holds 1 files ending '.jpeg' "
        "(e.g. 'x.jpeg'). Set img_suffix to the end of your image file names")
    # other errors pass unchanged
    with pytest.raises(ValueError, match='palette does not match'):
        build_seg_dataset(
            _seg_cfg(root, metainfo=dict(classes=('a', ), palette=[1, 2])),
            'my set')


def test_check_seg_files_names_a_missing_mask(tmp_path):
    root = str(tmp_path)
    _touch(osp.join(root, 'img', 'x.png'), osp.join(root, 'ann', 'x_gt.png'))
    dataset = build_seg_dataset(_seg_cfg(root), 'val')
    with pytest.raises(DataError) as err:
        check_seg_files(dataset, 'val')
    assert str(err.value) == (
        f"val (BaseSegDataset): mask {root}/ann/x.png does not exist; found "
        "'x_gt.png' there instead (seg_map_suffix is '.png')")
    # serialize_data=False lets MMSeg build an empty dataset: caught here
    os.rename(osp.join(root, 'img', 'x.png'), osp.join(root, 'img', 'x.jpg'))
    empty = build_seg_dataset(_seg_cfg(root, serialize_data=False), 'val')
    with pytest.raises(DataError, match=r"ends with '\.png'; it holds 1 "):
        check_seg_files(empty, 'val')
