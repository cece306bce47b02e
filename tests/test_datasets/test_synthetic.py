import json
import os.path as osp

import numpy as np
from PIL import Image

from mmseg_viladiff.datasets import generate_synthetic_dataset
from mmseg_viladiff.datasets.synthetic import SHAPES


def test_synthetic_dataset_files_and_captions(synthetic_root):
    with open(osp.join(synthetic_root, 'captions.jsonl')) as f:
        records = [json.loads(line) for line in f]
    assert len(records) == 20
    for rec in records:
        img = np.array(Image.open(osp.join(synthetic_root, rec['image'])))
        mask = np.array(
            Image.open(
                osp.join(synthetic_root,
                         rec['image'].replace('img_dir', 'ann_dir'))))
        assert img.shape == (64, 64, 3) and mask.shape == (64, 64)
        assert set(np.unique(mask)) <= {0, 1, 2, 3}
        # the caption names exactly the shapes visible in the mask
        for cls, name in enumerate(SHAPES, start=1):
            assert ((mask == cls).any()) == (name in rec['caption']), (
                rec['caption'], name)
        assert rec['captioner'] == 'synthetic-ground-truth'
    lab = open(osp.join(synthetic_root, 'splits/labeled.txt')).read().split()
    unl = open(osp.join(synthetic_root, 'splits/unlabeled.txt')).read().split()
    assert len(lab) == 4 and len(unl) == 12 and not set(lab) & set(unl)


def test_synthetic_generation_is_seeded_and_idempotent(tmp_path):
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    assert generate_synthetic_dataset(a, 4, 2, size=32, seed=1)
    assert not generate_synthetic_dataset(a, 4, 2, size=32, seed=1)
    assert generate_synthetic_dataset(b, 4, 2, size=32, seed=1)
    for name in ('img_dir/train/train_0003.png', 'ann_dir/val/val_0001.png'):
        assert (np.array(Image.open(osp.join(a, name))) == np.array(
            Image.open(osp.join(b, name)))).all()
