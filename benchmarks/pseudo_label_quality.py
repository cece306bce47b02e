"""Where the semi-supervised gain goes: quality and coverage of the
teacher's pseudo labels on CamVid 1/8's 322 unlabeled images.

For each semi-supervised row of ``benchmarks/camvid_semi.py`` already run,
this loads the row's dumped config and best checkpoint, lets the EMA teacher
label every unlabeled training image as it does in training (the weak view,
here the whole image at the test resolution, 480x360; captions read as in
training for rows with the VL path) and compares the pseudo labels with the
images' true labels, which training never reads. For cascade rows (with the
diffusion head) it measures the pseudo labels before and after refinement.

Per row and threshold tau it reports:

- coverage: share of labeled pixels whose teacher confidence is >= tau (the
  pixels that get a pseudo label in the unsupervised loss);
- precision: share of those pseudo labels that are correct;
- per class c, at the config's threshold: the share of class c's pixels
  that receive a correct confident pseudo label (the training signal a class
  gets from unlabeled images), and the precision of pseudo labels of c;
- in the band of 3 px around ground-truth edges and overall, per true
  class: coverage and precision at the config's threshold;
- precision at matched coverage (``camvid/coverage.py``): each source's most
  confident pixels, as many as the first head covers at the threshold (and
  50/70/80/90 %), overall, in the edge band and per class: the only fair
  comparison of two label sources.

Sources of a cascade row: the first head; the refined prediction (class
and, temperature-calibrated, confidence of the refining head); and the
refined class selected by the first head's confidence
(``refined_confidence='first'``, see
``mmseg_viladiff/models/utils/refined_pseudo_labels.py``).

Usage (after ``camvid_semi.py run ROW --seed S``)::

    python benchmarks/pseudo_label_quality.py meanteacher viladiff --seed 0
    python benchmarks/pseudo_label_quality.py --report   # table from JSON

Writes ``benchmarks/results/pseudo_labels/ROW_seedS.json`` per row and
``benchmarks/results/pseudo_labels.md`` from every JSON there.
"""
import argparse
import copy
import datetime
import json
import os
import os.path as osp
import sys
import time
from typing import Optional, Sequence

import camvid as bench  # benchmarks/camvid/, beside this script
from camvid.coverage import (CoverageHistogram, matched_coverage,
                             threshold_summary)
from camvid.pseudo_label_report import SOURCES, markdown_report

BENCHMARK = 'pseudo_labels'
#: thresholds reported besides the config's own
THRESHOLDS = (0.95, 0.9, 0.8, 0.7, 0.5, 0.0)
#: the threshold entry of a config with per-class thresholds
#: (``threshold_mode`` 'class_percentile' or 'class_adaptive'): each pixel
#: is compared with the trained model's threshold of its predicted class
PER_CLASS = 'per-class'


def find_unlabeled(node) -> Optional[dict]:
    """The first ``PartitionDataset`` with ``with_label=False`` in a config
    (sub)tree, or None."""
    if isinstance(node, dict):
        if node.get('type') == 'PartitionDataset' and \
                node.get('with_label') is False:
            return node
        children = node.values()
    elif isinstance(node, (list, tuple)):
        children = node
    else:
        return None
    for child in children:
        found = find_unlabeled(child)
        if found is not None:
            return found
    return None


def unlabeled_eval_dataset(cfg) -> dict:
    """The run's unlabeled partition, with labels, through the test
    pipeline (resize to the test scale, load labels and captions)."""
    unlabeled = find_unlabeled(cfg.train_dataloader.dataset.to_dict())
    if unlabeled is None:
        raise bench.BenchmarkError(
            f'{cfg.filename}: no unlabeled PartitionDataset '
            '(with_label=False) in train_dataloader; is this a '
            'semi-supervised row?')
    dataset = copy.deepcopy(unlabeled)
    dataset['with_label'] = True  # diagnosis only: never a training input
    pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    dataset['dataset']['pipeline'] = pipeline
    return dataset


class Counts:
    """Pixel counts of pseudo labels vs true labels, per class and
    threshold.

    Args:
        num_classes (int): K.
        thresholds (Sequence[float | str]): the confidence thresholds T;
            :data:`PER_CLASS` takes per-pixel thresholds given to
            :meth:`add`.
    """

    def __init__(self, num_classes: int, thresholds: Sequence[float]):
        import torch
        self.thresholds = list(thresholds)
        n = len(self.thresholds)
        self.gt = torch.zeros(num_classes, dtype=torch.long)
        # (T, K): confident pixels predicted c / correct confident c
        self.pred = torch.zeros(n, num_classes, dtype=torch.long)
        self.correct = torch.zeros(n, num_classes, dtype=torch.long)
        self.union_all = torch.zeros(num_classes, dtype=torch.long)

    def add(self,
            confidence,
            labels,
            gt,
            ignore_index: int = 255,
            pixel_tau=None) -> None:
        """Add one batch: confidence (B, H, W) float, labels and gt
        (B, H, W) long, pixel_tau (B, H, W) the per-class thresholds of the
        predicted classes (for a :data:`PER_CLASS` entry)."""
        import torch
        k = self.gt.numel()
        valid = gt != ignore_index
        conf, pred, true = confidence[valid], labels[valid], gt[valid]
        if PER_CLASS in self.thresholds:
            pixel_tau = pixel_tau[valid]
        self.gt += torch.bincount(true, minlength=k)
        hit = pred == true
        for i, tau in enumerate(self.thresholds):
            keep = conf >= (pixel_tau if tau == PER_CLASS else tau)
            self.pred[i] += torch.bincount(pred[keep], minlength=k)
            self.correct[i] += torch.bincount(pred[keep & hit], minlength=k)
        self.union_all += torch.bincount(pred, minlength=k) + \
            torch.bincount(true, minlength=k) - \
            torch.bincount(pred[hit], minlength=k)

    def summary(self, classes: Sequence[str]) -> dict:
        """Coverage and precision per threshold, pseudo-label mIoU (all
        pixels), and per class and threshold the signal and precision."""
        total = int(self.gt.sum())
        per_tau = []
        for i, tau in enumerate(self.thresholds):
            covered, correct = int(self.pred[i].sum()), \
                int(self.correct[i].sum())
            per_tau.append(
                dict(
                    threshold=tau,
                    coverage=100 * covered / max(total, 1),
                    precision=100 * correct / max(covered, 1),
                    correct_share=100 * correct / max(total, 1)))
        i_all = self.thresholds.index(0.0)
        iou = self.correct[i_all].double() / self.union_all.clamp(min=1)
        seen = self.union_all > 0
        per_class = {}
        for c, name in enumerate(classes):
            gt_c = int(self.gt[c])
            by_tau = []
            for i, tau in enumerate(self.thresholds):
                pred_c, correct_c = int(self.pred[i, c]), \
                    int(self.correct[i, c])
                by_tau.append(
                    dict(
                        threshold=tau,
                        signal=100 * correct_c / gt_c if gt_c else None,
                        precision=100 * correct_c /
                        pred_c if pred_c else None))
            per_class[name] = dict(pixels=gt_c, by_threshold=by_tau)
        return dict(
            pixels=total,
            pixel_acc=100 * int(self.correct[i_all].sum()) / max(total, 1),
            miou=100 * float(iou[seen].mean()) if seen.any() else None,
            thresholds=per_tau,
            per_class=per_class)


def source_labels(source: str, probs: dict, min_confidence: float):
    """(probs, labels, confidence) of one pseudo-label source from the
    first and refined softmaxes ``probs['first']``, ``probs['refined']``
    (B, K, H, W)."""
    from mmseg_viladiff.models.utils import select_refined
    if source == 'first_head':
        p = probs['first']
        confidence, labels = p.max(1)
        return p, labels, confidence
    mode = 'refined' if source == 'refined' else 'first'
    return select_refined(probs['first'], probs['refined'], mode,
                          min_confidence)


def score_batch(model, inputs, samples, threshold, counts: dict,
                hists: dict) -> None:
    """Add one preprocessed batch to the counts and histograms of every
    source (keys of ``counts``, as in :data:`SOURCES`).

    Args:
        model (SemiEncoderDecoder): in eval mode.
        inputs (Tensor): (B, 3, H, W); samples: their data samples, with
            ``gt_sem_seg`` (B, H', W') at the labels' resolution.
        threshold (float | str): the config's threshold or
            :data:`PER_CLASS`.
    """
    import torch
    import torch.nn.functional as F

    from mmseg_viladiff.utils.constants import IGNORE_INDEX
    gt = torch.stack([s.gt_sem_seg.data[0] for s in samples])
    # scored at the labels' resolution, as mmseg's evaluation
    probs = {
        k: None if x is None else F.interpolate(
            x, size=gt.shape[-2:], mode='bilinear',
            align_corners=False).softmax(1)
        for k, x in zip(('first', 'refined'),
                        model.teacher_first_and_refined(
                            inputs, samples, len(counts) > 1))
    }
    for source in counts:
        p, labels, confidence = source_labels(
            source, probs, model.semi_train_cfg['refine_min_confidence'])
        pixel_tau = model.thresholds(p, labels, confidence) \
            if threshold == PER_CLASS else None
        counts[source].add(confidence, labels, gt, IGNORE_INDEX, pixel_tau)
        tau = pixel_tau if threshold == PER_CLASS else threshold
        hists[source].add(confidence, labels, gt, confidence >= tau,
                          IGNORE_INDEX)


def evaluate(row: str, seed: int, thresholds: Sequence[float],
             work_dir: Optional[str]) -> dict:
    """Pseudo-label statistics of one run's best checkpoint (teacher)."""
    import torch
    from mmengine.dataset import pseudo_collate

    if not bench.ROWS[row].semi:
        raise bench.BenchmarkError(
            f'{row} is not a semi-supervised row: it has no pseudo labels')
    run = bench.load_run(row, seed, work_dir, unlabeled_eval_dataset)
    dataset, model = run.dataset, run.model
    dumped, ckpt, best_iter = run.dumped, run.checkpoint, run.checkpoint_iter
    semi_cfg = model.semi_train_cfg
    thresholds = sorted(set(thresholds) | {semi_cfg['threshold'], 0.0},
                        reverse=True)
    if semi_cfg['threshold_mode'] == 'fixed':
        threshold = semi_cfg['threshold']
    else:  # the checkpoint's per-class thresholds (model.eval(): frozen)
        threshold = PER_CLASS
        thresholds.insert(0, PER_CLASS)
    sources = list(SOURCES) if semi_cfg['refine_pseudo_labels'] else \
        ['first_head']
    counts = {v: Counts(model.num_classes, thresholds) for v in sources}
    hists = {v: CoverageHistogram(model.num_classes) for v in sources}
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(len(dataset)):
            data = model.data_preprocessor(pseudo_collate([dataset[i]]), False)
            score_batch(model, data['inputs'], data['data_samples'],
                        threshold, counts, hists)
    seconds = time.perf_counter() - start
    classes = list(dataset.metainfo['classes'])
    return dict(
        benchmark=BENCHMARK,
        row=row,
        method=bench.ROWS[row].label,
        seed=seed,
        config_dump=dumped,
        checkpoint=ckpt,
        checkpoint_iter=best_iter,
        images=len(dataset),
        config_threshold=threshold,
        class_thresholds=dict(
            zip(classes, model.class_threshold.tolist()))
        if semi_cfg['threshold_mode'] == 'class_percentile' else None,
        teacher_text_mode=semi_cfg['teacher_text_mode'],
        trained_with_refinement=semi_cfg['refine_pseudo_labels'],
        refined_confidence=semi_cfg['refined_confidence'],
        refine_min_confidence=semi_cfg['refine_min_confidence'],
        first_head=counts['first_head'].summary(classes),
        refined=counts['refined'].summary(classes)
        if 'refined' in counts else None,
        first_select=counts['first_select'].summary(classes)
        if 'first_select' in counts else None,
        edge_band={k: threshold_summary(h, classes)
                   for k, h in hists.items()},
        matched_coverage=matched_coverage(hists, 'first_head', classes),
        seconds=seconds,
        machine=bench.machine_info(),
        date=datetime.datetime.now().astimezone().isoformat(
            timespec='seconds'),
        git=bench.git_commit(),
    )


def write_report(results_dir: str) -> str:
    results = bench.load_results(results_dir, BENCHMARK)
    if not results:
        raise bench.BenchmarkError(
            f'no results in {osp.join(results_dir, BENCHMARK)}: run '
            '`python benchmarks/pseudo_label_quality.py ROW --seed S` first')
    text = markdown_report(results)
    path = osp.join(results_dir, f'{BENCHMARK}.md')
    with open(path, 'w') as f:
        f.write(text)
    print(text)
    print(f'[{BENCHMARK}] wrote {path}')
    return text


def parse_args(argv=None):
    semi_rows = [r for r, spec in bench.ROWS.items() if spec.semi]
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog='See the module docstring for what is measured.')
    parser.add_argument(
        'rows',
        nargs='*',
        choices=semi_rows,
        help='semi-supervised rows of camvid_semi.py to evaluate')
    parser.add_argument('--seed', type=int, default=0, help='the runs\' seed')
    parser.add_argument(
        '--thresholds',
        type=float,
        nargs='+',
        default=list(THRESHOLDS),
        help='confidence thresholds to report (the config\'s is added)')
    parser.add_argument(
        '--work-dir',
        help='work dir of the run (one row only; default '
        'benchmarks/work_dirs/camvid_semi/ROW_seedS)')
    parser.add_argument(
        '--report',
        action='store_true',
        help='only rewrite the Markdown report from the JSON results')
    parser.add_argument(
        '--results-dir',
        default=bench.RESULTS_DIR,
        help='where pseudo_labels/*.json and pseudo_labels.md go')
    args = parser.parse_args(argv)
    if not args.rows and not args.report:
        parser.error('name at least one row, or pass --report')
    if args.work_dir and len(args.rows) != 1:
        parser.error('--work-dir needs exactly one row')
    if any(not 0 <= t <= 1 for t in args.thresholds):
        parser.error('--thresholds must be in [0, 1]')
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        for row in args.rows:
            result = evaluate(row, args.seed, args.thresholds, args.work_dir)
            out = osp.join(args.results_dir, BENCHMARK,
                           f'{row}_seed{args.seed}.json')
            os.makedirs(osp.dirname(out), exist_ok=True)
            with open(out, 'w') as f:
                json.dump(result, f, indent=1)
            print(f'[{BENCHMARK}] {row} seed {args.seed}: '
                  f'{result["seconds"]:.0f} s -> {out}')
        write_report(args.results_dir)
    except bench.BenchmarkError as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
