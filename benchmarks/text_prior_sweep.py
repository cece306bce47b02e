"""Is there class evidence in what the caption path fetches? mIoU of a
trained CamVid VL row whose neck has the grounding classifier
(``VLFusionNeck(ground_weight>0)``) when its grounding log-probabilities,
times a scale s, are added to the decode head's logits (issue 18).

For a row of ``benchmarks/camvid_semi.py`` already run (e.g.
``supervised-vl-oracle-crop-ground``), this loads its dumped config and
best checkpoint and, per image of the split (whole image, captions from
the row's caption file), runs the backbone, the neck in caption mode and
the decode head once, then scores ``logits + s * prior`` for every s of
``--scales``: ``prior`` (K, h, w) is the mean over caption levels of the
grounding classifier's log-softmax, as ``ground_prior`` computes it with
every class's scale at 1. s = 0 is the row's own caption inference.

What it says: a rise with s on val means the attention does fetch class
evidence the decode head does not use (the feature residual is what loses
it); a flat or falling curve means the fetched text adds nothing the
image does not already give. Pick s on val; score test at that s. With
oracle captions it reads labels: a diagnostic, never a result.

Usage (after ``camvid_semi.py run ROW --seed S``)::

    python benchmarks/text_prior_sweep.py supervised-vl-oracle-crop-ground \
        --seed 0 --split val --scales 0 0.25 0.5 1 2 4

Writes ``benchmarks/results/text_prior_sweep/ROW_seedS_SPLIT.json`` and
prints a table.
"""
import argparse
import sys
import time
from typing import List, Optional, Sequence

import numpy as np

import camvid as bench  # benchmarks/camvid/, beside this script

BENCHMARK = 'text_prior_sweep'


def predictions_at_scales(model, data: dict,
                          scales: Sequence[float]) -> List[np.ndarray]:
    """Argmax maps (H, W) at the original size of one preprocessed image
    (batch of one), one per scale: the decode head's logits plus scale times
    the grounding prior, as ``VLEncoderDecoder.predict`` would return them
    with ``ground_prior`` and every class's ``prior_scale`` at that scale.

    The model must be a VL segmentor whose neck has a grounding classifier;
    its neck is switched to caption mode with a unit prior for the call.
    """
    import torch
    import torch.nn.functional as F
    from torch import nn

    from mmseg_viladiff.utils import ConfigError

    neck = model.neck
    if getattr(neck, 'grounding', None) is None:
        raise ConfigError(f'{type(neck).__name__} has no grounding '
                          f'classifier (ground_weight = 0): nothing to sweep')
    saved = neck.ground_prior, neck.prior_scale, neck.infer_mode
    neck.ground_prior, neck.infer_mode = True, 'caption'
    neck.prior_scale = nn.Parameter(
        torch.ones(neck.num_classes), requires_grad=False)
    try:
        inputs, samples = data['inputs'], data['data_samples']
        metas = [s.metainfo for s in samples]
        x = model.extract_feat(inputs, metas)
        logits = model.decode_head.forward(x)  # (1, K, h, w)
        prior = F.interpolate(
            model._text_prior,
            size=logits.shape[2:],
            mode='bilinear',
            align_corners=False)
        preds = []
        for scale in scales:
            seg = model.decode_head.predict_by_feat(logits + scale * prior,
                                                    metas)
            out = model.postprocess_result(seg, samples)[0]
            preds.append(out.pred_sem_seg.data[0].numpy())
        return preds
    finally:
        neck.ground_prior, neck.prior_scale, neck.infer_mode = saved


def evaluate(row: str, seed: int, split: str, scales: Sequence[float],
             work_dir: Optional[str]) -> dict:
    """mIoU at each scale of one run's best checkpoint on ``split``."""
    import torch

    run = bench.load_split_run(row, seed, split, work_dir)
    classes = list(run.dataset.metainfo['classes'])
    k = len(classes)
    hists = [np.zeros((k, k), np.int64) for _ in scales]
    start = time.perf_counter()
    with torch.no_grad():
        for data in bench.images(run):
            gt = data['data_samples'][0].gt_sem_seg.data[0].numpy()
            preds = predictions_at_scales(run.model, data, scales)
            for hist, pred in zip(hists, preds):
                hist += bench.confusion(pred, gt, k)
    scores = [
        dict(scale=scale, **bench.class_scores(hist, classes))
        for scale, hist in zip(scales, hists)
    ]
    return bench.run_record(BENCHMARK, run, row, seed, split, scores, start)


def table(result: dict) -> str:
    """Markdown: mIoU and the change to s = 0 at each scale."""
    scores = result['scores']
    base = next((s['mIoU'] for s in scores if s['scale'] == 0), None)
    lines = [
        f"{result['row']} seed {result['seed']}, {result['split']} "
        f"({result['images']} images), iteration "
        f"{result['checkpoint_iter']}", '', '| scale | mIoU | Δ vs 0 |',
        '| ---: | ---: | ---: |'
    ]
    for s in scores:
        delta = '' if base is None else f"{s['mIoU'] - base:+.2f}"
        lines.append(f"| {s['scale']:g} | {s['mIoU']:.2f} | {delta} |")
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog='See the module docstring for what is measured.')
    parser.add_argument('row', help='a row of camvid_semi.py')
    parser.add_argument('--seed', type=int, default=0, help='the run\'s seed')
    parser.add_argument('--split', choices=('val', 'test'), default='val')
    parser.add_argument(
        '--scales',
        type=float,
        nargs='+',
        default=[0, 0.25, 0.5, 1, 2, 4],
        help='prior scales s (0: the row\'s caption inference)')
    parser.add_argument(
        '--work-dir',
        help='work dir of the run (default '
        'benchmarks/work_dirs/camvid_semi/ROW_seedS)')
    parser.add_argument(
        '--results-dir',
        default=bench.RESULTS_DIR,
        help='where text_prior_sweep/*.json go')
    args = parser.parse_args(argv)
    if args.row not in bench.ROWS:
        parser.error(f'unknown row {args.row}; rows: {sorted(bench.ROWS)}')
    return args


def main(argv=None):
    from mmseg_viladiff.utils import ConfigError
    args = parse_args(argv)
    try:
        result = evaluate(args.row, args.seed, args.split, args.scales,
                          args.work_dir)
    except (bench.BenchmarkError, ConfigError) as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(1)
    bench.save_record(args.results_dir, result, table(result))


if __name__ == '__main__':
    main()
