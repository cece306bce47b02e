"""Reading what a run wrote: mmengine's logged scalars (val curve, step
times), the best checkpoint CheckpointHook kept, and the test metrics of
``tools/test.py`` (mmseg's per-class table included)."""
import glob
import json
import os.path as osp
import re
import statistics
from typing import Dict, List, Optional, Sequence, Tuple

from .errors import BenchmarkError


def read_scalars(work_dir: str) -> List[dict]:
    """Every record of the training runs' ``*/vis_data/scalars.json`` in
    ``work_dir`` (mmengine's LocalVisBackend), oldest run first."""
    files = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    records = []
    for path in files:
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip()]
    return records


def val_curve(records: Sequence[dict], key: str) -> List[Tuple[int, float]]:
    """(iteration, value) of ``key`` per validation, sorted by iteration; a
    later record of the same iteration (a resumed run) wins."""
    curve = {int(r['step']): float(r[key]) for r in records if key in r}
    return sorted(curve.items())


def median_train_scalar(records: Sequence[dict], key: str) -> Optional[float]:
    """Median of ``key`` over the training records (those with a ``loss``:
    validation records log ``time`` and ``data_time`` too), or None if no
    training record has it.

    mmengine logs ``time`` (s per iteration, data loading included) and
    ``data_time`` (s of it spent waiting for the batch).
    """
    values = [r[key] for r in records if key in r and 'loss' in r]
    return statistics.median(values) if values else None


def best_checkpoint(work_dir: str) -> Tuple[str, int]:
    """The ``best_*_iter_N.pth`` CheckpointHook kept, and N.

    Raises:
        BenchmarkError: there is none, or more than one.
    """
    found = sorted(glob.glob(osp.join(work_dir, 'best_*.pth')))
    if len(found) != 1:
        raise BenchmarkError(f'expected one best_*.pth in {work_dir}, found '
                             f'{[osp.basename(p) for p in found]}')
    match = re.search(r'_iter_(\d+)\.pth$', found[0])
    if match is None:
        raise BenchmarkError(f'cannot read the iteration of {found[0]}')
    return found[0], int(match.group(1))


def parse_class_table(log_text: str) -> Dict[str, float]:
    """Per-class IoU from the last ``per class results:`` table that mmseg's
    IoUMetric logs (``| Class | IoU | Acc |``); NaN IoU becomes None."""
    start = log_text.rfind('per class results:')
    if start < 0:
        raise BenchmarkError('no "per class results:" table in the test log')
    rows, header = {}, None
    for line in log_text[start:].splitlines()[1:]:
        line = line.strip()
        if line.startswith('+'):
            if rows:
                break
            continue
        if not line.startswith('|'):
            if header is not None:
                break
            continue
        cells = [c.strip() for c in line.strip('|').split('|')]
        if header is None:
            header = cells
            continue
        value = cells[header.index('IoU')]
        rows[cells[0]] = None if value.lower() == 'nan' else float(value)
    if not rows:
        raise BenchmarkError('empty per-class table in the test log')
    return rows


def read_test_metrics(test_dir: str) -> dict:
    """mIoU, aAcc, mAcc and per-class IoU of the latest ``tools/test.py``
    run in ``test_dir`` (its ``TIMESTAMP/TIMESTAMP.json`` and ``.log``)."""
    runs = sorted(
        d for d in glob.glob(osp.join(test_dir, '*'))
        if osp.isfile(osp.join(d,
                               osp.basename(d) + '.json')))
    if not runs:
        raise BenchmarkError(f'no test metrics (*/*.json) in {test_dir}')
    stem = osp.join(runs[-1], osp.basename(runs[-1]))
    with open(stem + '.json') as f:
        metrics = json.load(f)
    with open(stem + '.log') as f:
        per_class = parse_class_table(f.read())
    out = {k: metrics[k] for k in ('mIoU', 'aAcc', 'mAcc') if k in metrics}
    out['per_class_iou'] = per_class
    return out
