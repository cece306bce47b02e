"""Generate the synthetic shapes dataset (images, masks, captions, splits)."""
import argparse

from mmseg_viladiff.datasets import generate_synthetic_dataset


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--out', default='data/synthetic')
    parser.add_argument('--num-train', type=int, default=160)
    parser.add_argument('--num-val', type=int, default=40)
    parser.add_argument('--size', type=int, default=96)
    parser.add_argument('--labeled-fraction', type=float, default=0.25)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    written = generate_synthetic_dataset(
        args.out,
        num_train=args.num_train,
        num_val=args.num_val,
        size=args.size,
        labeled_fraction=args.labeled_fraction,
        seed=args.seed)
    print(('wrote' if written else 'up to date:') + f' {args.out}')


if __name__ == '__main__':
    main()
