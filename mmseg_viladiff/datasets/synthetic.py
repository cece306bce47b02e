"""A small synthetic segmentation dataset with captions, generated on demand.

It lets the whole pipeline (data, captions, training, evaluation) run in
minutes on a CPU on a machine with no data. Images hold discs, squares and
triangles in random colours on a textured background, so the class depends
on shape, not colour; each image comes with a caption naming what it shows.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Tuple

import numpy as np
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS
from PIL import Image, ImageDraw

SHAPES = ('disc', 'square', 'triangle')
GENERATOR_VERSION = 1


@DATASETS.register_module()
class SyntheticShapesDataset(BaseSegDataset):
    """Synthetic shapes: background plus three shape classes.

    Layout under ``data_root`` (written by :func:`generate_synthetic_dataset`):
    ``img_dir/{train,val}/*.png``, ``ann_dir/{train,val}/*.png``,
    ``splits/{labeled,unlabeled}.txt`` and ``captions.jsonl``.
    """
    METAINFO = dict(
        classes=('background', ) + SHAPES,
        palette=[[0, 0, 0], [220, 20, 60], [0, 128, 255], [250, 200, 0]])

    def __init__(self,
                 img_suffix='.png',
                 seg_map_suffix='.png',
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)


def _background(rng: np.random.RandomState, size: int) -> np.ndarray:
    """Smooth colour gradient plus noise, (size, size, 3) uint8."""
    corners = rng.randint(0, 256, size=(2, 2, 3)).astype(np.float32)
    w = np.linspace(0, 1, size, dtype=np.float32)
    top = corners[0, 0] * (1 - w[:, None]) + corners[0, 1] * w[:, None]
    bottom = corners[1, 0] * (1 - w[:, None]) + corners[1, 1] * w[:, None]
    img = top[None] * (1 - w[:, None, None]) + bottom[None] * w[:, None, None]
    img += rng.normal(0, 12, size=img.shape)  # (size, size, 3)
    return np.clip(img, 0, 255).astype(np.uint8)


def _draw_shape(draw_img, draw_mask, rng, size: int, cls: int):
    radius = rng.randint(size // 10, size // 4)
    cx, cy = rng.randint(radius, size - radius, size=2)
    colour = tuple(int(c) for c in rng.randint(0, 256, size=3))
    name = SHAPES[cls - 1]
    if name == 'disc':
        box = [cx - radius, cy - radius, cx + radius, cy + radius]
        draw_img.ellipse(box, fill=colour)
        draw_mask.ellipse(box, fill=cls)
    elif name == 'square':
        box = [cx - radius, cy - radius, cx + radius, cy + radius]
        draw_img.rectangle(box, fill=colour)
        draw_mask.rectangle(box, fill=cls)
    else:
        pts = [(cx, cy - radius), (cx - radius, cy + radius),
               (cx + radius, cy + radius)]
        draw_img.polygon(pts, fill=colour)
        draw_mask.polygon(pts, fill=cls)


def _caption(counts: Dict[str, int]) -> str:
    words = {1: 'one', 2: 'two', 3: 'three', 4: 'four'}
    parts = [
        f'{words.get(n, n)} {name}{"s" if n > 1 else ""}'
        for name, n in counts.items() if n
    ]
    if len(parts) > 1:
        parts = [', '.join(parts[:-1]) + ' and ' + parts[-1]]
    return f'A picture of {parts[0]} on a textured background.'


def make_sample(rng: np.random.RandomState,
                size: int) -> Tuple[np.ndarray, np.ndarray, str]:
    """One image (H, W, 3) uint8, its mask (H, W) uint8 and its caption."""
    img = Image.fromarray(_background(rng, size))
    mask = Image.new('L', (size, size), 0)
    draw_img, draw_mask = ImageDraw.Draw(img), ImageDraw.Draw(mask)
    counts = {name: 0 for name in SHAPES}
    for _ in range(rng.randint(1, 5)):
        cls = rng.randint(1, len(SHAPES) + 1)
        _draw_shape(draw_img, draw_mask, rng, size, cls)
        counts[SHAPES[cls - 1]] += 1
    mask_arr = np.asarray(mask)
    # shapes drawn later may hide earlier ones: caption what stays visible
    visible = {
        name: n if (mask_arr == i + 1).any() else 0
        for i, (name, n) in enumerate(counts.items())
    }
    return np.asarray(img), mask_arr, _caption(visible)


def generate_synthetic_dataset(root: str,
                               num_train: int = 160,
                               num_val: int = 40,
                               size: int = 96,
                               labeled_fraction: float = 0.25,
                               seed: int = 0) -> bool:
    """Write the synthetic dataset under ``root`` unless already there.

    Args:
        root (str): output folder.
        num_train (int): training images (split into labeled/unlabeled).
        num_val (int): validation images.
        size (int): image side in pixels.
        labeled_fraction (float): share of train listed in
            ``splits/labeled.txt``; the rest go to ``splits/unlabeled.txt``.
        seed (int): random seed; the same arguments give the same files.

    Returns:
        bool: True if files were written, False if an identical dataset
        (same arguments, per ``meta.json``) was already there.
    """
    meta = dict(
        version=GENERATOR_VERSION,
        num_train=num_train,
        num_val=num_val,
        size=size,
        labeled_fraction=labeled_fraction,
        seed=seed)
    meta_file = osp.join(root, 'meta.json')
    if osp.isfile(meta_file):
        with open(meta_file) as f:
            if json.load(f) == meta:
                return False
    rng = np.random.RandomState(seed)
    records: List[dict] = []
    names = {'train': [], 'val': []}
    for split, count in (('train', num_train), ('val', num_val)):
        os.makedirs(osp.join(root, 'img_dir', split), exist_ok=True)
        os.makedirs(osp.join(root, 'ann_dir', split), exist_ok=True)
        for i in range(count):
            name = f'{split}_{i:04d}'
            img, mask, caption = make_sample(rng, size)
            rel = osp.join('img_dir', split, name + '.png')
            Image.fromarray(img).save(osp.join(root, rel))
            Image.fromarray(mask).save(
                osp.join(root, 'ann_dir', split, name + '.png'))
            records.append(
                dict(
                    image=rel,
                    caption=caption,
                    captioner='synthetic-ground-truth',
                    model=None,
                    prompt=None))
            names[split].append(name)
    order = rng.permutation(num_train)
    num_labeled = max(1, int(round(num_train * labeled_fraction)))
    os.makedirs(osp.join(root, 'splits'), exist_ok=True)
    for fname, idx in (('labeled.txt', order[:num_labeled]),
                       ('unlabeled.txt', order[num_labeled:])):
        with open(osp.join(root, 'splits', fname), 'w') as f:
            f.writelines(names['train'][i] + '\n' for i in sorted(idx))
    with open(osp.join(root, 'captions.jsonl'), 'w') as f:
        f.writelines(json.dumps(r) + '\n' for r in records)
    with open(meta_file, 'w') as f:
        json.dump(meta, f)
    return True
