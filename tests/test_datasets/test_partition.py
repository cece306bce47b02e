import os
import os.path as osp

import pytest

from mmseg_viladiff.datasets import PartitionDataset, read_partition
from mmseg_viladiff.datasets.partition import split_labeled
from mmseg_viladiff.utils import DataError


def _write(path, text):
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


def _inner(root):
    return dict(
        type='SyntheticShapesDataset',
        data_root=root,
        data_prefix=dict(
            img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=[])


def test_read_partition_both_formats(tmp_path):
    split = _write(tmp_path / 'a.txt',
                   '# comment\nimg/1.jpg lab/1.png\n\nname_2\n')
    entries = read_partition(split)
    assert [(e.image, e.label, e.line)
            for e in entries] == [('img/1.jpg', 'lab/1.png', 2),
                                  ('name_2', None, 4)]


@pytest.mark.parametrize('text, match', [
    ('a b c\n', r'a\.txt:1: expected'),
    ('a\nb\na\n', r'a\.txt:3: .a. is already listed at line 1'),
    ('\n# nothing\n', r'lists no images'),
])
def test_read_partition_errors_name_file_and_line(tmp_path, text, match):
    with pytest.raises(DataError, match=match):
        read_partition(_write(tmp_path / 'a.txt', text))


def test_read_partition_missing_file(tmp_path):
    with pytest.raises(DataError, match='not found: .*nope.txt'):
        read_partition(str(tmp_path / 'nope.txt'))


def test_partition_dataset_keeps_listed_samples_in_order(synthetic_root):
    with open(osp.join(synthetic_root, 'splits', 'labeled.txt')) as f:
        names = f.read().split()
    ds = PartitionDataset(_inner(synthetic_root), 'splits/labeled.txt')
    assert len(ds) == len(names) == 4
    got = [osp.basename(ds.get_data_info(i)['img_path']) for i in range(4)]
    assert got == [n + '.png' for n in names]
    info = ds.get_data_info(0)
    assert info['seg_map_path'].endswith(f'ann_dir/train/{names[0]}.png')
    assert ds.metainfo['classes'][0] == 'background'


def test_partition_dataset_two_column_paths_override_labels(
        synthetic_root, tmp_path):
    # label path from the line wins over the dataset's own label folder
    split = _write(
        tmp_path / 'split.txt',
        'img_dir/train/train_0003.png ann_dir/train/train_0005.png\n'
        'train_0001\n')
    ds = PartitionDataset(_inner(synthetic_root), split)
    assert ds.get_data_info(0)['img_path'].endswith('train_0003.png')
    assert ds.get_data_info(0)['seg_map_path'] == osp.join(
        synthetic_root, 'ann_dir/train/train_0005.png')
    assert ds.get_data_info(1)['seg_map_path'].endswith('train_0001.png')


def test_partition_dataset_unknown_image_names_line(synthetic_root, tmp_path):
    split = _write(tmp_path / 'split.txt', 'train_0001\ntrain_9999\n')
    with pytest.raises(DataError, match=r'split\.txt:2: image .train_9999.'):
        PartitionDataset(_inner(synthetic_root), split)


def test_partition_dataset_missing_label_and_unlabeled_mode(
        synthetic_root, tmp_path):
    root = str(tmp_path / 'copy')
    import shutil
    shutil.copytree(synthetic_root, root)
    os.remove(osp.join(root, 'ann_dir/train/train_0002.png'))
    split = _write(tmp_path / 'split.txt', 'train_0001\ntrain_0002\n')
    with pytest.raises(DataError, match=r'split\.txt:2: label file'):
        PartitionDataset(_inner(root), split)
    # an unlabeled partition neither needs nor exposes label files
    ds = PartitionDataset(_inner(root), split, with_label=False)
    assert 'seg_map_path' not in ds.get_data_info(1)


def test_partition_dataset_over_concat_dataset(synthetic_root, tmp_path):
    val = dict(
        _inner(synthetic_root),
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'))
    concat = dict(type='ConcatDataset', datasets=[_inner(synthetic_root), val])
    split = _write(tmp_path / 's.txt', 'val_0002\ntrain_0007\n')
    ds = PartitionDataset(concat, split)
    assert [osp.basename(ds.get_data_info(i)['img_path'])
            for i in range(2)] == ['val_0002.png', 'train_0007.png']


def test_split_labeled_seeded_and_nested():
    lines = [f'img_{i:03d}' for i in range(100)]
    lab8, unl8 = split_labeled(lines, 8, seed=3)
    lab16, _ = split_labeled(lines[::-1], 16, seed=3)
    assert len(lab8) == 8 and len(unl8) == 92
    assert not set(lab8) & set(unl8)
    assert set(lab8) <= set(lab16)  # nested partitions
    assert lab8 == split_labeled(lines, 8, seed=3)[0]
    assert lab8 != split_labeled(lines, 8, seed=4)[0]
    with pytest.raises(ValueError, match='num_labeled'):
        split_labeled(lines, 0, seed=0)


def test_make_splits_tool(tmp_path, capsys):
    from tools_loader import load_tool
    make_splits = load_tool('make_splits')
    src = _write(tmp_path / 'all.txt',
                 ''.join(f'JPEG/{i}.jpg SEG/{i}.png\n' for i in range(32)))
    make_splits.main(
        [src, '--fraction', '1/16', '--out-dir',
         str(tmp_path / 'out')])
    labeled = read_partition(str(tmp_path / 'out' / 'labeled.txt'))
    unlabeled = read_partition(str(tmp_path / 'out' / 'unlabeled.txt'))
    assert len(labeled) == 2 and len(unlabeled) == 30
    assert labeled[0].label.startswith('SEG/')
    assert '2 labeled / 30 unlabeled' in capsys.readouterr().out


def test_make_splits_from_an_image_folder(tmp_path, capsys):
    from tools_loader import load_tool
    make_splits = load_tool('make_splits')
    img_dir = tmp_path / 'img_dir' / 'train'
    for name in ('a', 'b', 'c', 'sub/d'):
        os.makedirs(osp.dirname(img_dir / name), exist_ok=True)
        _write(img_dir / f'{name}_rgb.png', '')
    _write(img_dir / 'notes.txt', '')
    make_splits.main([
        '--img-dir',
        str(img_dir), '--img-suffix', '_rgb.png', '--num-labeled', '1',
        '--out-dir',
        str(tmp_path / 'out')
    ])
    labeled = read_partition(str(tmp_path / 'out' / 'labeled.txt'))
    unlabeled = read_partition(str(tmp_path / 'out' / 'unlabeled.txt'))
    assert sorted(e.image
                  for e in labeled + unlabeled) == ['a', 'b', 'c', 'sub/d']
    assert '1 labeled / 3 unlabeled' in capsys.readouterr().out
    with pytest.raises(
            DataError,
            match=r"ends with '\.jpg'; it holds 4 "
            r"files ending '\.png', 1 files ending '\.txt'"):
        make_splits.main([
            '--img-dir',
            str(img_dir), '--img-suffix', '.jpg', '--num-labeled', '1',
            '--out-dir',
            str(tmp_path / 'out')
        ])
