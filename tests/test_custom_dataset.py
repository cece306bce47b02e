"""The own-dataset template (configs/examples) on a dataset it was not
written for, edited the way docs/custom_dataset.md tells a user to."""
import glob
import os
import os.path as osp
import re

import numpy as np
import pytest
from conftest import REPO_ROOT
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmseg.registry import DATASETS
from PIL import Image
from tools_loader import load_tool

from mmseg_viladiff.datasets import read_partition
from mmseg_viladiff.utils import DataError, adapt_cfg_to_device

TEMPLATE = osp.join(REPO_ROOT, 'configs', 'examples',
                    'meanteacher_effnetl0_custom-dataset.py')
#: 3 classes stored as 1..3 on disk, 0 = unlabeled (reduce_zero_label)
CLASSES = ('water', 'sand', 'forest')
IMG_SUFFIX, SEG_SUFFIX = '_rgb.png', '_mask.png'
COLOURS = np.array([[0, 0, 0], [30, 60, 200], [210, 190, 120], [20, 120, 30]])


def write_tiny_dataset(root: str, num_train: int = 8, num_val: int = 2):
    """MMSeg layout, 64x48 PNGs: three vertical bands (one per class) and a
    few unlabeled (0) pixels; images are the band colours plus noise."""
    rng = np.random.RandomState(0)
    for split, num in (('train', num_train), ('val', num_val)):
        for d in ('img_dir', 'ann_dir'):
            os.makedirs(osp.join(root, d, split), exist_ok=True)
        for i in range(num):
            mask = np.zeros((48, 64), np.uint8)
            edges = np.sort(rng.randint(8, 56, size=2))
            mask[:, :edges[0]] = 1
            mask[:, edges[0]:edges[1]] = 2
            mask[:, edges[1]:] = 3
            mask[:4, :4] = 0
            img = COLOURS[mask] + rng.randint(-20, 20, size=(48, 64, 3))
            name = f'tile_{split}_{i:02d}'
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(
                osp.join(root, 'img_dir', split, name + IMG_SUFFIX))
            Image.fromarray(mask).save(
                osp.join(root, 'ann_dir', split, name + SEG_SUFFIX))


def make_splits(root: str, num_labeled: int = 2) -> None:
    """The documented command, run as a function."""
    load_tool('make_splits').main([
        '--img-dir',
        osp.join(root, 'img_dir', 'train'), '--img-suffix', IMG_SUFFIX,
        '--num-labeled',
        str(num_labeled), '--out-dir',
        osp.join(root, 'splits')
    ])


def _edit_block(lines):
    """Indices of the template's user block: from the first ``# EDIT``
    comment to the first line that derives values from it."""
    start = next(i for i, line in enumerate(lines)
                 if line.startswith('# EDIT'))
    end = lines.index('num_classes = len(classes)')
    return start, end


def edit_template(path: str, **values) -> str:
    """Copy the template to ``path``, replacing the line ``NAME = ...`` of
    each value; only lines of the ``# EDIT`` block may change. ``_base_``
    becomes absolute, as the copy lives outside configs/."""
    with open(TEMPLATE) as f:
        lines = f.read().split('\n')
    start, end = _edit_block(lines)
    for name, value in values.items():
        hits = [
            i for i, line in enumerate(lines) if line.startswith(f'{name} = ')
        ]
        assert len(hits) == 1, f'{name} assigned {len(hits)} times'
        assert start < hits[0] < end, f'{name} is not in the EDIT block'
        lines[hits[0]] = f'{name} = {value!r}'
    text = '\n'.join(lines).replace("_base_ = '../",
                                    f"_base_ = '{REPO_ROOT}/configs/")
    with open(path, 'w') as f:
        f.write(text)
    return path


def user_config(tmp_path, root: str, **overrides) -> Config:
    """The template as the user edits it for the tiny dataset, then the
    ``--cfg-options`` a user would pass for a quick CPU check."""
    values = dict(
        data_root=root,
        classes=CLASSES,
        img_suffix=IMG_SUFFIX,
        seg_map_suffix=SEG_SUFFIX,
        reduce_zero_label=True,
        img_scale=(64, 48),
        crop_size=(32, 32))
    values.update(overrides)
    cfg = Config.fromfile(
        edit_template(str(tmp_path / 'my_dataset.py'), **values))
    cfg.merge_from_dict({
        'work_dir': str(tmp_path / 'work'),
        'train_dataloader.batch_size': 4,
        'train_dataloader.sampler.batch_size': 4,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'val_dataloader.num_workers': 0,
        'val_dataloader.persistent_workers': False,
        'train_cfg.max_iters': 2,
        'train_cfg.val_interval': 2,
        'default_hooks.checkpoint.interval': 2,
        'default_hooks.logger.interval': 1,
        'model.segmentor.backbone.init_cfg': None,  # no 14 MB load
        'randomness.seed': 0,
    })
    adapt_cfg_to_device(cfg)
    return cfg


@pytest.fixture
def tiny_root(tmp_path):
    root = str(tmp_path / 'tiles')
    write_tiny_dataset(root)
    make_splits(root)
    return root


class RecordImages(Hook):
    """Image paths of each branch of every training batch."""

    def __init__(self):
        self.seen = {'sup': [], 'unsup_weak': []}

    def after_train_iter(self, runner, batch_idx, data_batch, outputs=None):
        for branch, paths in self.seen.items():
            paths += [
                s.img_path for s in data_batch['data_samples'][branch]
                if s is not None
            ]


def test_template_trains_and_evaluates_on_a_new_dataset(tmp_path, tiny_root):
    # unlabeled images need no mask: delete theirs
    unlabeled = [
        e.image for e in read_partition(
            osp.join(tiny_root, 'splits', 'unlabeled.txt'))
    ]
    labeled = [
        e.image
        for e in read_partition(osp.join(tiny_root, 'splits', 'labeled.txt'))
    ]
    assert (len(labeled), len(unlabeled)) == (2, 6)
    for name in unlabeled:
        os.remove(osp.join(tiny_root, 'ann_dir', 'train', name + SEG_SUFFIX))

    runner = Runner.from_cfg(user_config(tmp_path, tiny_root))
    record = RecordImages()
    runner.register_hook(record)
    runner.train()

    # the partitions are the split files, and batches draw from them 1:1
    parts = runner.train_dataloader.dataset.datasets
    assert [len(p) for p in parts] == [2, 6]
    img_dir = osp.join(tiny_root, 'img_dir', 'train')
    sup = {
        osp.relpath(p, img_dir)[:-len(IMG_SUFFIX)]
        for p in record.seen['sup']
    }
    unsup = {
        osp.relpath(p, img_dir)[:-len(IMG_SUFFIX)]
        for p in record.seen['unsup_weak']
    }
    assert len(record.seen['sup']) == len(record.seen['unsup_weak']) == 4
    assert sup <= set(labeled) and unsup <= set(unlabeled)

    # the model predicts the new classes, and the evaluation names them
    assert runner.model.student.decode_head.num_classes == 3
    assert runner.model.student.auxiliary_head.num_classes == 3
    metrics = runner.val_loop.run()
    assert {'teacher/mIoU', 'student/mIoU'} <= set(metrics)
    assert 0 <= metrics['teacher/mIoU'] <= 100
    evaluator = runner.val_evaluator.metrics[0]
    assert tuple(evaluator.dataset_meta['classes']) == CLASSES
    log = ''.join(
        open(p).read() for p in glob.glob(osp.join(runner.log_dir, '*.log')))
    for name in CLASSES:
        assert re.search(rf'\|\s+{name}\s+\|\s+[\d.nan]+\s+\|', log), name
    assert osp.isfile(osp.join(runner.work_dir, 'iter_2.pth'))


def _build_train_set(cfg):
    return DATASETS.build(cfg.train_dataloader.dataset)


def test_wrong_image_suffix_names_folder_suffix_and_files(tmp_path, tiny_root):
    cfg = user_config(tmp_path, tiny_root, img_suffix='.jpg')
    with pytest.raises(DataError) as err:
        _build_train_set(cfg)
    msg = str(err.value)
    img_dir = osp.join(tiny_root, 'img_dir', 'train')
    assert msg == (
        "PartitionDataset('splits/labeled.txt').dataset (BaseSegDataset) "
        f"found no images: no file under '{img_dir}' ends with '.jpg'; it "
        "holds 8 files ending '.png' (e.g. 'tile_train_00_rgb.png'). Set "
        'img_suffix to the end of your image file names')
    # the same mistake in the split tool
    with pytest.raises(
            DataError,
            match=r"under '.*img_dir/train' ends with "
            r"'\.jpg'; it holds 8 files ending '\.png'"):
        load_tool('make_splits').main([
            '--img-dir', img_dir, '--img-suffix', '.jpg', '--fraction', '1/4',
            '--out-dir',
            str(tmp_path / 's')
        ])


def test_wrong_mask_suffix_names_the_mask_and_the_lookalike(
        tmp_path, tiny_root):
    cfg = user_config(tmp_path, tiny_root, seg_map_suffix='.png')
    with pytest.raises(DataError) as err:
        _build_train_set(cfg)
    mask = osp.join(tiny_root, 'ann_dir', 'train', 'tile_train_')
    assert re.fullmatch(
        r".*labeled\.txt:1: label file of 'tile_train_(\d\d)': " +
        re.escape(mask) + r"\1\.png does not exist; found "
        r"'tile_train_\1_mask\.png' there instead \(seg_map_suffix is "
        r"'\.png'\)\. \(An unlabeled partition needs with_label=False\.\)",
        str(err.value))


def test_validation_files_checked_before_training(tmp_path, tiny_root):
    """A validation set whose masks are not found stops the run when the
    val loop is built, not at the first validation."""
    val_ann = osp.join(tiny_root, 'ann_dir', 'val')
    for path in glob.glob(osp.join(val_ann, '*')):
        os.rename(path, path.replace(SEG_SUFFIX, '.png'))
    runner = Runner.from_cfg(user_config(tmp_path, tiny_root))
    with pytest.raises(DataError) as err:
        runner.train()
    assert runner.iter == 0
    assert str(err.value).startswith(
        'val_dataloader.dataset (BaseSegDataset): mask '
        f'{val_ann}/tile_val_00_mask.png does not exist; found '
        "'tile_val_00.png' there instead (seg_map_suffix is '_mask.png')")


def test_label_values_outside_the_classes_name_the_mask(tmp_path, tiny_root):
    name = read_partition(osp.join(tiny_root, 'splits',
                                   'labeled.txt'))[0].image
    mask_path = osp.join(tiny_root, 'ann_dir', 'train', name + SEG_SUFFIX)
    mask = np.array(Image.open(mask_path))
    mask[10:12, 10:12] = 7  # 3 classes on disk as 1..3; 7 is none
    mask[20, 20] = 255  # ignored: fine
    Image.fromarray(mask).save(mask_path)
    labeled = _build_train_set(user_config(tmp_path, tiny_root)).datasets[0]
    with pytest.raises(DataError) as err:
        labeled[0]
    assert str(err.value).startswith(
        f'mask {mask_path} holds label values [6] outside the 3 classes '
        '(valid: 0..2 and 255 = ignore); on disk these are [7]')


def test_split_naming_a_missing_image_names_file_line_and_path(
        tmp_path, tiny_root):
    split = osp.join(tiny_root, 'splits', 'labeled.txt')
    with open(split, 'a') as f:
        f.write('tile_train_99\n')
    with pytest.raises(DataError) as err:
        _build_train_set(user_config(tmp_path, tiny_root))
    img = osp.join(tiny_root, 'img_dir', 'train', 'tile_train_99_rgb.png')
    assert str(err.value) == (
        f"{split}:3: image 'tile_train_99' is not in the dataset: {img} does "
        'not exist; check that the split belongs to this dataset')


def test_every_value_to_edit_is_documented():
    """docs/custom_dataset.md names every value of the EDIT block."""
    with open(TEMPLATE) as f:
        lines = f.read().split('\n')
    start, end = _edit_block(lines)
    names = [
        line.split(' = ')[0] for line in lines[start:end]
        if re.match(r'\w+ = ', line)
    ]
    assert {'data_root', 'classes', 'img_suffix',
            'labeled_split'} <= set(names)
    with open(osp.join(REPO_ROOT, 'docs', 'custom_dataset.md')) as f:
        doc = f.read()
    for name in names:
        assert f'`{name}`' in doc, name
