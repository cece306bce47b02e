"""Scoring a loaded run's predictions (confusion matrix, IoU) and the
result record the diagnostics write (``presence_bound.py``,
``text_prior_sweep.py``)."""
import datetime
import json
import os
import os.path as osp
import time

import numpy as np

from .loading import LoadedRun
from .provenance import git_commit, machine_info
from .rows import ROWS

IGNORE_INDEX = 255


def confusion(pred: np.ndarray, gt: np.ndarray, k: int) -> np.ndarray:
    """(K, K) counts of (true, predicted) over pixels whose label is not
    ignored; pred and gt (H, W)."""
    valid = gt != IGNORE_INDEX
    idx = gt[valid].astype(np.int64) * k + pred[valid].astype(np.int64)
    return np.bincount(idx, minlength=k * k).reshape(k, k)


def iou(hist: np.ndarray) -> np.ndarray:
    """Per-class IoU in percent from a (K, K) confusion matrix (NaN for a
    class neither present nor predicted)."""
    inter = np.diag(hist).astype(np.float64)
    union = hist.sum(0) + hist.sum(1) - inter
    with np.errstate(divide='ignore', invalid='ignore'):
        return 100 * inter / union


def class_scores(hist: np.ndarray, classes) -> dict:
    """``mIoU`` and ``per_class_iou`` (rounded) of a confusion matrix."""
    per_class = iou(hist)
    return dict(
        mIoU=float(np.nanmean(per_class)),
        per_class_iou={
            c: round(float(v), 2)
            for c, v in zip(classes, per_class)
        })


def run_record(benchmark: str, run: LoadedRun, row: str, seed: int,
               split: str, scores, start: float) -> dict:
    """The JSON record of a diagnostic on ``run`` (``start``: its
    ``time.perf_counter()`` at the beginning)."""
    return dict(
        benchmark=benchmark,
        row=row,
        method=ROWS[row].label if row in ROWS else row,
        seed=seed,
        split=split,
        images=len(run.dataset),
        config_dump=run.dumped,
        checkpoint=run.checkpoint,
        checkpoint_iter=run.checkpoint_iter,
        scores=scores,
        seconds=time.perf_counter() - start,
        machine=machine_info(),
        date=datetime.datetime.now().astimezone().isoformat(
            timespec='seconds'),
        git=git_commit())


def save_record(results_dir: str, result: dict, table: str) -> str:
    """Write a :func:`run_record` to
    ``results_dir/BENCHMARK/ROW_seedS_SPLIT.json``, print ``table`` and a
    summary line; returns the path."""
    benchmark = result['benchmark']
    out = osp.join(results_dir, benchmark,
                   f"{result['row']}_seed{result['seed']}_{result['split']}"
                   '.json')
    os.makedirs(osp.dirname(out), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(result, f, indent=1)
    print(table)
    print(f"[{benchmark}] {result['row']} seed {result['seed']}: "
          f"{result['seconds']:.0f} s -> {out}")
    return out
