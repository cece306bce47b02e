"""Class weights for a config's labeled training images (JSON file).

Counts the pixels of each class in the label maps of the config's
``train_dataloader`` dataset (a semi-supervised ``ConcatDataset`` counts
only its labeled parts: partitions with ``with_label=False`` are skipped, so
labels of unlabeled images are never read), then writes median-frequency
(SegNet) or ENet weights with the counts and the command that made them.
``ClassBalancedCrossEntropyLoss(class_weight=FILE)`` reads the file.

Example (CamVid 1/8, the 45 labeled images):
    python tools/class_weights.py \
        configs/baselines/deeplabv3p_effnetl0_camvid_1-8.py \
        --out configs/_base_/datasets/camvid_1-8_class_weights.json
"""
import argparse
import datetime
import json
import os
import os.path as osp
import sys

from mmengine.config import Config
from mmengine.fileio import get
from mmengine.registry import init_default_scope

from mmseg_viladiff.utils import ConfigError, DataError, exit_on_input_error
from mmseg_viladiff.utils.class_weights import (METHODS, accumulate_counts,
                                                class_weights_from_counts,
                                                count_label_pixels)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config whose train dataset to count')
    parser.add_argument('--out', required=True, help='JSON file to write')
    parser.add_argument('--method', choices=METHODS, default='median_freq')
    return parser.parse_args(argv)


def labeled_datasets(dataset) -> list:
    """The parts of a (Concat)Dataset whose labels training may read."""
    parts = getattr(dataset, 'datasets', None) or [dataset]
    return [d for d in parts if getattr(d, 'with_label', True)]


def label_maps(dataset):
    """Yield ``(path, label map (H, W))`` of every sample of ``dataset``."""
    import mmcv
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        path = info.get('seg_map_path')
        if path is None:
            raise DataError(f'sample {i} ({info.get("img_path")}) has no '
                            'label file')
        if not osp.isfile(path):
            raise DataError(f'label file {path} does not exist')
        label = mmcv.imfrombytes(get(path), flag='unchanged', backend='pillow')
        yield path, info, label


def main(argv=None):
    args = parse_args(argv)
    from mmseg.registry import DATASETS
    cfg = Config.fromfile(args.config)  # runs custom_imports
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    if 'train_dataloader' not in cfg:
        raise ConfigError(f'{args.config} has no train_dataloader')
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    num_classes = len(dataset.metainfo['classes'])
    per_image, files = [], 0
    for part in labeled_datasets(dataset):
        for path, info, label in label_maps(part):
            per_image.append(
                count_label_pixels(label, num_classes, info.get('label_map'),
                                   info.get('reduce_zero_label', False),
                                   path))
            files += 1
    if not per_image:
        raise DataError(f'{args.config}: the train dataset has no labeled '
                        'samples')
    counts, image_counts = accumulate_counts(per_image)
    weights = class_weights_from_counts(counts, image_counts, args.method)
    out = dict(
        class_weight=[round(float(w), 4) for w in weights],
        classes=list(dataset.metainfo['classes']),
        method=args.method,
        pixel_counts=counts.astype(int).tolist(),
        labeled_images=files,
        config=args.config,
        command=' '.join(['python'] + sys.argv),
        date=datetime.date.today().isoformat())
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(out, f, indent=1)
    for name, w, n in zip(out['classes'], weights, counts):
        print(f'{name:>16s} {int(n):>10d} px  weight {w:.3f}')
    print(f'{files} labeled images -> {args.out}')


if __name__ == '__main__':
    exit_on_input_error(main)
