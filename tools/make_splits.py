"""Write a seeded semi-supervised partition (labeled.txt / unlabeled.txt).

Example (VOC aug, 1/16 = 662 labels, MMSeg layout):
    python tools/make_splits.py \
        data/VOCdevkit/VOC2012/ImageSets/Segmentation/train.txt \
        data/VOCdevkit/VOC2012/ImageSets/Segmentation/aug.txt \
        --num-labeled 662 --out-dir data/VOCdevkit/VOC2012/splits/1-16

Input lists may be in either partition format (basenames, or
``image label`` lines); lines are copied unchanged.
"""
import argparse
import os
import os.path as osp

from mmseg_viladiff.datasets.partition import read_partition, split_labeled


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'lists',
        nargs='+',
        help='files listing all '
        'training samples (merged, duplicates dropped)')
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument('--num-labeled', type=int, help='labeled images')
    group.add_argument(
        '--fraction', help='labeled fraction, e.g. 1/16 or 0.0625')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out-dir', required=True)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    lines = []
    for path in args.lists:
        lines += [
            e.image if e.label is None else f'{e.image} {e.label}'
            for e in read_partition(path)
        ]
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
    main()
