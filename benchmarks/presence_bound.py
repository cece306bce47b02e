"""How much a caption that names an image's classes could add at most:
test mIoU of a trained CamVid row with and without an oracle class-presence
mask (issue 18: "the fusion cannot use text, or the text carries too
little?").

For a row of ``benchmarks/camvid_semi.py`` already run, this loads its
dumped config and best checkpoint, predicts every image of the split
(whole image, as the row's test does) and scores two predictions against
the labels:

- ``plain``: the model's argmax;
- ``presence``: the argmax over the classes present in the image's label
  map only (the logits of absent classes set to -inf), i.e. the model told
  exactly which classes the image holds, and nothing about where;
- ``regions``: the same per cell of a 3x3 grid (each pixel's argmax over
  the classes of its cell), what the ``oracle-regions`` captions say
  ("top left: sky, building.").

Each difference to ``plain`` bounds what such a caption could add to that
model if the fusion used it perfectly and only to rule classes out. It
reads the labels of the images it scores: a diagnostic, never a result.

Usage (after ``camvid_semi.py run ROW --seed S``)::

    python benchmarks/presence_bound.py supervised --seed 0 [--split test]

Writes ``benchmarks/results/presence_bound/ROW_seedS_SPLIT.json`` and
prints a table (overall and per class).
"""
import argparse
import sys
import time
from typing import Optional

import numpy as np

import camvid as bench  # benchmarks/camvid/, beside this script
from camvid.scoring import IGNORE_INDEX, confusion

BENCHMARK = 'presence_bound'
#: the predictions scored (see the module docstring)
MODES = ('plain', 'presence', 'regions')


def presence_masked(logits, gt, grid: int = 1) -> np.ndarray:
    """Argmax (H, W) of logits (K, H, W) where each cell of a grid x grid
    split considers only the classes present in its part of gt (H, W)
    (all classes in a cell without a valid label)."""
    import torch
    masked = logits.clone()
    h, w = gt.shape
    rows = np.linspace(0, h, grid + 1).round().astype(int)
    cols = np.linspace(0, w, grid + 1).round().astype(int)
    for r0, r1 in zip(rows[:-1], rows[1:]):
        for c0, c1 in zip(cols[:-1], cols[1:]):
            cell = gt[r0:r1, c0:c1]
            present = torch.unique(cell[cell != IGNORE_INDEX]).long()
            if present.numel() == 0:
                continue
            absent = torch.ones(logits.shape[0], dtype=torch.bool)
            absent[present] = False
            masked[absent, r0:r1, c0:c1] = float('-inf')
    return masked.argmax(0).numpy()


def evaluate(row: str, seed: int, split: str,
             work_dir: Optional[str]) -> dict:
    """Plain and presence-masked scores of one run's best checkpoint."""
    import torch

    run = bench.load_split_run(row, seed, split, work_dir)
    model = run.model
    classes = list(run.dataset.metainfo['classes'])
    k = len(classes)
    hists = {m: np.zeros((k, k), np.int64) for m in MODES}
    start = time.perf_counter()
    with torch.no_grad():
        for data in bench.images(run):
            sample = model.predict(data['inputs'], data['data_samples'])[0]
            logits = sample.seg_logits.data  # (K, H, W), original size
            gt = sample.gt_sem_seg.data[0]  # (H, W)
            gt_np = gt.numpy()
            hists['plain'] += confusion(logits.argmax(0).numpy(), gt_np, k)
            hists['presence'] += confusion(
                presence_masked(logits, gt), gt_np, k)
            hists['regions'] += confusion(
                presence_masked(logits, gt, grid=3), gt_np, k)
    scores = {mode: bench.class_scores(hist, classes)
              for mode, hist in hists.items()}
    return bench.run_record(BENCHMARK, run, row, seed, split, scores, start)


def table(result: dict) -> str:
    """Markdown: overall and per-class IoU of each mode, and each masked
    mode's difference to plain."""
    scores = result['scores']
    lines = [
        f"{result['row']} seed {result['seed']}, {result['split']} "
        f"({result['images']} images), iteration "
        f"{result['checkpoint_iter']}", '',
        '| class | plain | presence | Δ | 3x3 regions | Δ |',
        '| --- | ---: | ---: | ---: | ---: | ---: |'
    ]
    names = ['mIoU'] + list(scores['plain']['per_class_iou'])
    for name in names:
        a, b, c = (scores[m]['mIoU'] if name == 'mIoU' else
                   scores[m]['per_class_iou'][name] for m in MODES)
        lines.append(f'| {name} | {a:.2f} | {b:.2f} | {b - a:+.2f} | '
                     f'{c:.2f} | {c - a:+.2f} |')
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog='See the module docstring for what is measured.')
    parser.add_argument('rows', nargs='+', help='rows of camvid_semi.py')
    parser.add_argument('--seed', type=int, default=0, help='the runs\' seed')
    parser.add_argument('--split', choices=('val', 'test'), default='test')
    parser.add_argument(
        '--work-dir',
        help='work dir of the run (one row only; default '
        'benchmarks/work_dirs/camvid_semi/ROW_seedS)')
    parser.add_argument(
        '--results-dir',
        default=bench.RESULTS_DIR,
        help='where presence_bound/*.json go')
    args = parser.parse_args(argv)
    if args.work_dir and len(args.rows) != 1:
        parser.error('--work-dir needs exactly one row')
    unknown = [r for r in args.rows if r not in bench.ROWS]
    if unknown:
        parser.error(f'unknown rows {unknown}; rows: {sorted(bench.ROWS)}')
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        for row in args.rows:
            result = evaluate(row, args.seed, args.split, args.work_dir)
            bench.save_record(args.results_dir, result, table(result))
    except bench.BenchmarkError as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
