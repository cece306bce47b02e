"""Write a seeded semi-supervised partition (labeled.txt / unlabeled.txt).

Example (VOC aug, 1/16 = 662 labels, MMSeg layout):
    python tools/make_splits.py \
        data/VOCdevkit/VOC2012/ImageSets/Segmentation/train.txt \
        data/VOCdevkit/VOC2012/ImageSets/Segmentation/aug.txt \
        --num-labeled 662 --out-dir data/VOCdevkit/VOC2012/splits/1-16

Example (your own dataset, every image of a folder, 1/8 labeled):
    python tools/make_splits.py --img-dir data/my_dataset/img_dir/train \
        --img-suffix .jpg --fraction 1/8 --out-dir data/my_dataset/splits

Input lists may be in either partition format (basenames, or
``image label`` lines); lines are copied unchanged. Images found with
``--img-dir`` are written as their path under that folder, without the
suffix (``PartitionDataset`` matches them against the image folder).
"""
import argparse
import os
import os.path as osp

from mmseg_viladiff.datasets.file_checks import describe_folder
from mmseg_viladiff.datasets.partition import read_partition, split_labeled
from mmseg_viladiff.utils import DataError, exit_on_input_error


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'lists',
        nargs='*',
        help='files listing all '
        'training samples (merged, duplicates dropped)')
    parser.add_argument(
        '--img-dir',
        help='also take every image under this folder (recursively)')
    parser.add_argument(
        '--img-suffix',
        help='with --img-dir: the end of the image file names, e.g. .jpg')
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument('--num-labeled', type=int, help='labeled images')
    group.add_argument(
        '--fraction', help='labeled fraction, e.g. 1/16 or 0.0625')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out-dir', required=True)
    args = parser.parse_args(argv)
    if not args.lists and not args.img_dir:
        parser.error('give list files, --img-dir, or both')
    if args.img_dir and not args.img_suffix:
        parser.error('--img-dir needs --img-suffix (e.g. .jpg)')
    return args


def list_images(img_dir: str, suffix: str) -> list:
    """Paths under ``img_dir`` of the files ending in ``suffix``, suffix
    removed, sorted.

    Raises:
        DataError: no file ends in ``suffix``; names the folder and what it
            holds.
    """
    names = []
    for parent, _, files in os.walk(img_dir):
        names += [
            osp.relpath(osp.join(parent, f), img_dir)[:-len(suffix)]
            for f in files if f.endswith(suffix)
        ]
    if not names:
        raise DataError(f'--img-dir: {describe_folder(img_dir, suffix)}; '
                        'set --img-suffix to the end of your image names')
    return sorted(names)


def main(argv=None):
    args = parse_args(argv)
    lines = []
    for path in args.lists:
        lines += [
            e.image if e.label is None else f'{e.image} {e.label}'
            for e in read_partition(path)
        ]
    if args.img_dir:
        lines += list_images(args.img_dir, args.img_suffix)
    if args.num_labeled is not None:
        num = args.num_labeled
    else:
        num_s, _, den_s = args.fraction.partition('/')
        frac = float(num_s) / float(den_s or 1)
        num = max(1, round(len(set(lines)) * frac))
    labeled, unlabeled = split_labeled(lines, num, args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    for name, items in (('labeled.txt', labeled), ('unlabeled.txt',
                                                   unlabeled)):
        with open(osp.join(args.out_dir, name), 'w') as f:
            f.writelines(item + '\n' for item in items)
    print(f'{len(labeled)} labeled / {len(unlabeled)} unlabeled -> '
          f'{args.out_dir} (seed {args.seed})')


if __name__ == '__main__':
    exit_on_input_error(main)
