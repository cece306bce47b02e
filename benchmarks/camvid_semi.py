"""CamVid 1/8 ablation: supervised -> mean teacher -> + diffusion / + VL ->
full ViLaDiff, and the fully supervised ceiling, on one CPU budget.

Every row trains the ImageNet-pretrained EfficientNet-Lite0 DeepLabV3+ at
the configs' resolution (320x240 images, 192x192 crops, batch 4 labeled +
4 unlabeled for the semi-supervised rows, 8 labeled for the supervised
ones) for the same number of iterations, selects the checkpoint with the
best val mIoU (the teacher's, ``teacher/mIoU``, for semi-supervised rows;
``mIoU`` for supervised ones) and evaluates it on the 233 test images.

Rows (``ROWS``; configs under ``configs/``)::

    supervised              baselines/deeplabv3p_effnetl0_camvid_1-8.py
    meanteacher             viladiff/meanteacher_effnetl0_camvid_1-8.py
    meanteacher-tau0.8      the same, semi_train_cfg.threshold=0.8 (ablation)
    meanteacher-diffrefine  viladiff/meanteacher-diffrefine_effnetl0_
                            camvid_1-8.py
    meanteacher-vl          viladiff/meanteacher-vl_effnetl0_camvid_1-8.py
    viladiff                viladiff/deeplabv3p_effnetl0_camvid_1-8.py
    fully-supervised        baselines/deeplabv3p_effnetl0_camvid_full.py

Usage (one row and seed per process; rows with captions need the
``supervised`` row of the same seed first)::

    python benchmarks/camvid_semi.py run supervised --seed 0
    python benchmarks/camvid_semi.py run viladiff --seed 0 [--iters N]
    python benchmarks/camvid_semi.py report
    # all rows, two seeds:
    for s in 0 1; do for r in supervised meanteacher meanteacher-diffrefine \\
        meanteacher-vl viladiff fully-supervised; do
        python benchmarks/camvid_semi.py run $r --seed $s; done; done

``run`` builds the row's config with the overrides below, dumps it to the
work dir (``benchmarks/work_dirs/camvid_semi/ROW_seedS/ROW_seedS.py``),
trains it with ``tools/train.py`` and tests the best checkpoint with
``tools/test.py`` (each a subprocess; the dumped config re-runs either step
by hand), then writes ``benchmarks/results/camvid_semi/ROW_seedS.json``:
the val mIoU curve of the selected model (from mmengine's
``vis_data/scalars.json``), the best val iteration, test mIoU and per-class
IoU of the selected checkpoint, wall times, machine, date, git commit,
torch version and the command. Overrides: ``randomness.seed``,
``train_cfg.max_iters``, PolyLR ``end``, ``train_cfg.val_interval`` (default
iters / 8), checkpoint interval (= val interval), ``save_best``.

Captions (``meanteacher-vl``, ``viladiff``): template captions from the
best checkpoint of the ``supervised`` row of the same seed, written by
``tools/generate_captions.py`` to
``benchmarks/work_dirs/captions/camvid_template_seedS.jsonl`` (every
LoadCaption of the config reads that file). They are generated when the
file is missing, was written from another checkpoint, or ``--captions`` is
given; an interrupted generation resumes.

``report`` reads every result JSON and writes
``benchmarks/results/camvid_semi.md`` (mean +- half-range over seeds, and
per-class test IoU) and ``docs/figures/camvid_semi_val_curves.png``.

Default budget: 2800 iterations (``DEFAULT_ITERS``), validation every 350,
for every row. Derived from two short runs of the slowest row, the full
``viladiff`` (2-core AMD EPYC, no GPU, 2026-11-22, torch 2.14.1, default 2
dataloader workers, the machine otherwise nearly idle): mmengine's logged
training time was 0.70, 0.65 s/iteration (``--iters 40``) and 0.72, 0.75,
0.67 s/iteration (``--iters 60``); one validation (teacher and student, 2 x
101 images at 320x240) took 15-19 s; start-up of ``tools/train.py`` about
20 s, the test step 27-33 s, template captions for the 701 images 71 s
(10 s when the file is already complete). At 0.72 s/iteration, 2800
iterations + 8 validations (about 20 s each) + start-up, test and captions
make about 2016 + 160 + 125 s = 38 min, within the ~40 min target and the
45 min limit; the other rows are cheaper. A machine shared with other jobs
runs slower: each result JSON records its wall time.
"""
import argparse
import datetime
import glob
import json
import os
import os.path as osp
import platform
import re
import shlex
import statistics
import subprocess
import sys
import time
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
RESULTS_DIR = osp.join(ROOT, 'benchmarks', 'results')
WORK_ROOT = osp.join(ROOT, 'benchmarks', 'work_dirs')
FIGURE_DIR = osp.join(ROOT, 'docs', 'figures')
BENCHMARK = 'camvid_semi'
TRAIN = osp.join(ROOT, 'tools', 'train.py')
TEST = osp.join(ROOT, 'tools', 'test.py')
CAPTION_TOOL = osp.join(ROOT, 'tools', 'generate_captions.py')
#: the config whose datasets list every image to caption (train, val, test)
CAPTION_SOURCE = 'configs/viladiff/meanteacher-vl_effnetl0_camvid_1-8.py'

#: iterations of every row; see the module docstring for how it was chosen
DEFAULT_ITERS = 2800
#: validations per run when --val-interval is not given
VALIDATIONS = 8


class Row(NamedTuple):
    """One method of the ablation.

    Attributes:
        config (str): config path relative to the repository root.
        semi (bool): a ``SemiEncoderDecoder`` (teacher selected and tested).
        captions (bool): its pipelines read template captions.
        label (str): the method's name in the report.
        options (dict): config overrides (``--cfg-options`` style keys) on
            top of ``config``, for ablations of one setting.
    """
    config: str
    semi: bool
    captions: bool
    label: str
    options: Optional[dict] = None


#: the rows, in report order
ROWS: Dict[str, Row] = {
    'supervised':
    Row('configs/baselines/deeplabv3p_effnetl0_camvid_1-8.py', False, False,
        'supervised (45 labels)'),
    'meanteacher':
    Row('configs/viladiff/meanteacher_effnetl0_camvid_1-8.py', True, False,
        'mean teacher'),
    # ablation: the mean teacher's confidence threshold (0.95 in the config;
    # see benchmarks/pseudo_label_quality.py for the coverage it leaves)
    'meanteacher-tau0.8':
    Row('configs/viladiff/meanteacher_effnetl0_camvid_1-8.py', True, False,
        'mean teacher, threshold 0.8',
        {'model.semi_train_cfg.threshold': 0.8}),
    'meanteacher-diffrefine':
    Row('configs/viladiff/meanteacher-diffrefine_effnetl0_camvid_1-8.py', True,
        False, 'mean teacher + diffusion refinement'),
    'meanteacher-vl':
    Row('configs/viladiff/meanteacher-vl_effnetl0_camvid_1-8.py', True, True,
        'mean teacher + VL path'),
    'viladiff':
    Row('configs/viladiff/deeplabv3p_effnetl0_camvid_1-8.py', True, True,
        'ViLaDiff (full)'),
    'fully-supervised':
    Row('configs/baselines/deeplabv3p_effnetl0_camvid_full.py', False, False,
        'fully supervised (367 labels)'),
}


class BenchmarkError(Exception):
    """A precondition of a run is not met (message says what to do)."""


# ---------------------------------------------------------------------------
# paths and the run config
def result_path(results_dir: str, row: str, seed: int) -> str:
    """``RESULTS_DIR/camvid_semi/ROW_seedS.json``."""
    return osp.join(results_dir, BENCHMARK, f'{row}_seed{seed}.json')


def default_work_dir(row: str, seed: int) -> str:
    return osp.join(WORK_ROOT, BENCHMARK, f'{row}_seed{seed}')


def default_caption_file(seed: int) -> str:
    return osp.join(WORK_ROOT, 'captions', f'camvid_template_seed{seed}.jsonl')


def metric_key(row: Row) -> str:
    """The val metric that selects checkpoints (TeacherStudentValLoop
    prefixes a semi-supervised model's metrics with ``teacher/``)."""
    return 'teacher/mIoU' if row.semi else 'mIoU'


def set_caption_file(node, cache_file: str) -> int:
    """Point every ``LoadCaption`` of a config at ``cache_file``.

    Args:
        node: a config (or any part of it: dicts, lists, tuples).
        cache_file (str): the caption JSONL file.

    Returns:
        int: how many LoadCaption transforms were changed.
    """
    count = 0
    if isinstance(node, dict):
        if node.get('type') in ('LoadCaption', 'mmseg.LoadCaption'):
            node['cache_file'] = cache_file
            count += 1
        for value in node.values():
            count += set_caption_file(value, cache_file)
    elif isinstance(node, (list, tuple)):
        for value in node:
            count += set_caption_file(value, cache_file)
    return count


def set_num_workers(cfg, num_workers: int) -> None:
    """Dataloader workers of the train, val and test loaders."""
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].num_workers = num_workers
        cfg[key].persistent_workers = num_workers > 0


def build_run_config(row: Row,
                     seed: int,
                     iters: int,
                     work_dir: str,
                     val_interval: int,
                     caption_file: Optional[str] = None,
                     num_workers: Optional[int] = None):
    """The row's config with the benchmark's overrides.

    Args:
        row (Row): the method.
        seed (int): ``randomness.seed``.
        iters (int): training iterations (PolyLR ends there too).
        work_dir (str): the run's work dir.
        val_interval (int): iterations between validations (and
            checkpoints).
        caption_file (str, optional): caption JSONL for every LoadCaption;
            required when ``row.captions``.
        num_workers (int, optional): dataloader workers (default: the
            config's).

    Returns:
        Config: ready to dump and train.
    """
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, row.config))
    if row.options:
        cfg.merge_from_dict(row.options)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed)
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = val_interval
    for scheduler in cfg.param_scheduler:
        if scheduler['type'] == 'PolyLR':
            scheduler['end'] = iters
    checkpoint = cfg.default_hooks.checkpoint
    checkpoint.interval = val_interval
    checkpoint.save_best = metric_key(row)
    checkpoint.rule = 'greater'
    logger = cfg.default_hooks.logger
    logger.interval = min(logger.get('interval', 50), val_interval)
    if row.semi and cfg.model.get('semi_test_cfg',
                                  {}).get('predict_on') != 'teacher':
        raise BenchmarkError(f'{row.config}: the benchmark selects and tests '
                             "the teacher; semi_test_cfg.predict_on must be "
                             "'teacher'")
    if row.captions:
        if caption_file is None:
            raise BenchmarkError(f'{row.config} needs a caption file')
        if set_caption_file(cfg._cfg_dict, caption_file) == 0:
            raise BenchmarkError(f'{row.config} has no LoadCaption to point '
                                 'at the caption file')
    if num_workers is not None:
        set_num_workers(cfg, num_workers)
    return cfg


# ---------------------------------------------------------------------------
# subprocesses
def run_command(cmd: List[str], what: str) -> float:
    """Run ``cmd`` in the repository root; returns its wall time (s).

    Raises:
        BenchmarkError: the command failed.
    """
    print(
        f'[{BENCHMARK}] {what}: {" ".join(shlex.quote(c) for c in cmd)}',
        flush=True)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise BenchmarkError(f'{what} failed (exit {proc.returncode}); see '
                             'its output above')
    return seconds


def read_caption_checkpoint(caption_file: str) -> Optional[str]:
    """The checkpoint named by the first record of a caption file (None if
    the file is missing or empty)."""
    if not osp.isfile(caption_file):
        return None
    with open(caption_file) as f:
        for line in f:
            if line.strip():
                return json.loads(line).get('model')
    return None


def ensure_captions(seed: int, caption_file: str, results_dir: str,
                    force: bool) -> dict:
    """Template captions from the ``supervised`` row of ``seed``.

    Generates (or completes) ``caption_file`` with
    ``tools/generate_captions.py`` unless it is already complete and was
    written from that row's best checkpoint.

    Returns:
        dict: ``file``, ``checkpoint``, ``config`` and ``seconds`` (0 when
        nothing was generated).

    Raises:
        BenchmarkError: the supervised row of this seed has not been run.
    """
    sup_path = result_path(results_dir, 'supervised', seed)
    if not osp.isfile(sup_path):
        raise BenchmarkError(
            f'captions come from the supervised model of the same seed, but '
            f'{sup_path} does not exist: run `python benchmarks/'
            f'camvid_semi.py run supervised --seed {seed}` first')
    with open(sup_path) as f:
        sup = json.load(f)
    ckpt, seg_config = sup['best_checkpoint'], sup['config_dump']
    for path in (ckpt, seg_config):
        if not osp.isfile(path):
            raise BenchmarkError(
                f'{path} (from {sup_path}) is gone: re-run `python '
                f'benchmarks/camvid_semi.py run supervised --seed {seed}`')
    info = dict(file=caption_file, checkpoint=ckpt, config=seg_config)
    written_from = read_caption_checkpoint(caption_file)
    if written_from is not None and (force or written_from != ckpt):
        print(f'[{BENCHMARK}] regenerating {caption_file} (it was written '
              f'from {written_from})')
        os.remove(caption_file)
    os.makedirs(osp.dirname(caption_file), exist_ok=True)
    # the tool skips images already captioned: this completes a partial
    # file and costs only start-up when the file is complete
    info['seconds'] = run_command([
        sys.executable, CAPTION_TOOL, CAPTION_SOURCE, '--out', caption_file,
        '--captioner', 'template', '--seg-config', seg_config, '--checkpoint',
        ckpt, '--device', 'cpu', '--no-progress'
    ], 'captions')
    return info


# ---------------------------------------------------------------------------
# reading what the runs wrote
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


def median_iter_time(records: Sequence[dict]) -> Optional[float]:
    """Median logged training time per iteration (s), if any was logged."""
    times = [r['time'] for r in records if 'time' in r and 'loss' in r]
    return statistics.median(times) if times else None


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


# ---------------------------------------------------------------------------
# provenance
def machine_info() -> dict:
    """CPU model (``/proc/cpuinfo``), core count, platform."""
    cpu = platform.processor() or 'unknown'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return dict(cpu=cpu, cores=os.cpu_count(), platform=platform.platform())


def git_commit() -> dict:
    """HEAD's commit and whether tracked files differ from it."""

    def git(*args):
        return subprocess.run(['git', '--no-optional-locks', *args],
                              cwd=ROOT,
                              capture_output=True,
                              text=True).stdout.strip()

    return dict(
        commit=git('rev-parse', 'HEAD') or None,
        dirty=bool(git('status', '--porcelain', '--untracked-files=no')))


def torch_version() -> str:
    import torch
    return torch.__version__


# ---------------------------------------------------------------------------
# the run step
def check_work_dir(work_dir: str, resume: bool) -> None:
    """A fresh run refuses a work dir that already holds checkpoints (their
    best_*.pth would be mixed up with the new run's)."""
    if not resume and glob.glob(osp.join(work_dir, '*.pth')):
        raise BenchmarkError(f'{work_dir} already holds checkpoints: pass '
                             '--resume to continue that run, or remove the '
                             'folder')


def run(args) -> dict:
    """Train, test and record one row and seed; returns the result."""
    row = ROWS[args.row]
    work_dir = osp.abspath(
        args.work_dir or default_work_dir(args.row, args.seed))
    val_interval = args.val_interval or max(1, args.iters // VALIDATIONS)
    check_work_dir(work_dir, args.resume)
    start = time.perf_counter()
    commit = git_commit()  # the code the run starts with
    captions = None
    if row.captions:
        captions = ensure_captions(
            args.seed,
            osp.abspath(args.caption_file or default_caption_file(args.seed)),
            args.results_dir, args.captions)
    cfg = build_run_config(row, args.seed, args.iters, work_dir, val_interval,
                           captions and captions['file'], args.num_workers)
    os.makedirs(work_dir, exist_ok=True)
    dumped = osp.join(work_dir, f'{args.row}_seed{args.seed}.py')
    cfg.dump(dumped)
    train_cmd = [sys.executable, TRAIN, dumped, '--work-dir', work_dir]
    train_s = run_command(train_cmd + (['--resume'] if args.resume else []),
                          'train')
    ckpt, best_iter = best_checkpoint(work_dir)
    test_dir = osp.join(work_dir, 'test')
    test_s = run_command(
        [sys.executable, TEST, dumped, ckpt, '--work-dir', test_dir], 'test')
    records = read_scalars(work_dir)
    curve = val_curve(records, metric_key(row))
    result = dict(
        benchmark=BENCHMARK,
        row=args.row,
        method=row.label,
        seed=args.seed,
        iters=args.iters,
        val_interval=val_interval,
        config=row.config,
        config_options=row.options,
        config_dump=dumped,
        work_dir=work_dir,
        selected_model='teacher' if row.semi else 'model',
        val_metric=metric_key(row),
        val_curve=[[i, v] for i, v in curve],
        best_val=dict(iteration=best_iter, mIoU=dict(curve).get(best_iter)),
        best_checkpoint=ckpt,
        test=read_test_metrics(test_dir),
        captions=captions,
        resumed=bool(args.resume),
        median_train_iter_s=median_iter_time(records),
        wall_time_s=dict(
            captions=captions and captions['seconds'],
            train=train_s,
            test=test_s,
            total=time.perf_counter() - start),
        machine=machine_info(),
        date=datetime.datetime.now().astimezone().isoformat(
            timespec='seconds'),
        git=commit,
        torch=torch_version(),
        command=' '.join(
            shlex.quote(a) for a in [osp.basename(sys.executable)] + sys.argv),
    )
    out = result_path(args.results_dir, args.row, args.seed)
    os.makedirs(osp.dirname(out), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(result, f, indent=1)
    print(f'[{BENCHMARK}] {args.row} seed {args.seed}: best val '
          f'{result["val_metric"]} {result["best_val"]["mIoU"]} at iteration '
          f'{best_iter}; test mIoU {result["test"].get("mIoU")}; '
          f'{result["wall_time_s"]["total"] / 60:.1f} min -> {out}')
    return result


# ---------------------------------------------------------------------------
# the report step
def load_results(results_dir: str, benchmark: str = BENCHMARK) -> List[dict]:
    """Every ``RESULTS_DIR/BENCHMARK/*.json`` result of ``benchmark``, in
    row (``ROWS`` order, unknown rows last), iterations, then seed order."""
    results = []
    for path in sorted(glob.glob(osp.join(results_dir, benchmark, '*.json'))):
        with open(path) as f:
            data = json.load(f)
        if data.get('benchmark') == benchmark:
            results.append(data)
    order = list(ROWS)

    def sort_key(r):
        return (order.index(r['row']) if r['row'] in order else len(order),
                r['row'], r.get('iters', 0), r['seed'])

    return sorted(results, key=sort_key)


def mean_spread(values: Sequence[float]) -> Tuple[float, float]:
    """Mean and half-range ((max - min) / 2) of ``values``."""
    values = list(values)
    return statistics.fmean(values), (max(values) - min(values)) / 2


def group_results(results: Sequence[dict]) -> List[List[dict]]:
    """Results grouped by (row, iters), seeds inside a group, in the order
    of ``results``."""
    groups: Dict[Tuple[str, int], List[dict]] = {}
    for r in results:
        groups.setdefault((r['row'], r['iters']), []).append(r)
    return list(groups.values())


def summarize(group: Sequence[dict]) -> dict:
    """Mean and half-range over the seeds of one (row, iters) group."""
    first = group[0]
    stats = dict(
        row=first['row'],
        method=first.get('method', first['row']),
        iters=first['iters'],
        seeds=[r['seed'] for r in group],
        best_val=mean_spread(r['best_val']['mIoU'] for r in group),
        best_iter=mean_spread(r['best_val']['iteration'] for r in group),
        test=mean_spread(r['test']['mIoU'] for r in group),
        minutes=mean_spread(r['wall_time_s']['total'] / 60 for r in group))
    classes = list(first['test']['per_class_iou'])
    per_class = {}
    for name in classes:
        values = [r['test']['per_class_iou'].get(name) for r in group]
        values = [v for v in values if v is not None]
        per_class[name] = mean_spread(values) if values else None
    stats['per_class'] = per_class
    return stats


def paired_delta(group: Sequence[dict],
                 base: Optional[Sequence[dict]]) -> Optional[dict]:
    """Test mIoU of ``group`` minus that of ``base``, seed by seed.

    Only the seeds both groups ran are paired; returns ``None`` when there
    are none, else ``dict(delta=(mean, half-range), seeds=[...])``.
    """
    if not base:
        return None
    base_test = {r['seed']: r['test']['mIoU'] for r in base}
    pairs = [(r['seed'], r['test']['mIoU'] - base_test[r['seed']])
             for r in group if r['seed'] in base_test]
    if not pairs:
        return None
    return dict(
        delta=mean_spread(d for _, d in pairs),
        seeds=sorted(s for s, _ in pairs))


def fmt_delta(paired: Optional[dict], seeds: Sequence[int]) -> str:
    """``+mean ± half-range``, naming the paired seeds when they are not all
    of the row's ``seeds``; '-' without a pair."""
    if paired is None:
        return '-'
    mean, spread = paired['delta']
    text = f'{mean:+.2f} ± {spread:.2f}'
    if paired['seeds'] != sorted(seeds):
        text += f' (seed {", ".join(map(str, paired["seeds"]))})'
    return text


def fmt(pair: Optional[Tuple[float, float]], digits: int = 2) -> str:
    """``mean ± half-range`` (just the mean for one seed; '-' for None)."""
    if pair is None:
        return '-'
    mean, spread = pair
    return f'{mean:.{digits}f} ± {spread:.{digits}f}'


def _unique(results, get) -> str:
    return ', '.join(sorted({str(get(r)) for r in results}))


def markdown_report(results: Sequence[dict], png_name: str) -> str:
    """The Markdown report of ``results`` (see :func:`report`)."""
    groups = group_results(results)
    bases = {(g[0]['row'], g[0]['iters']): g for g in groups}
    lines = [
        '# CamVid 1/8 semi-supervised ablation',
        '',
        'Written by `python benchmarks/camvid_semi.py report` from the run '
        'results in `benchmarks/results/camvid_semi/*.json`; every number '
        'comes from those files. Values are **mean ± half-range** ((max - '
        'min) / 2) over the seeds listed. Val: 101 images, mIoU of the '
        'selected model (the EMA teacher for semi-supervised rows) at its '
        'best validation; test: 233 images, the best-val checkpoint. '
        'Δ test: test mIoU minus that of `supervised` (or `meanteacher`) '
        'at the same iterations and seed, mean ± half-range over the seeds '
        'both rows ran (named when not all of the row\'s seeds).',
        '',
        f'- machine: {_unique(results, lambda r: r["machine"]["cpu"])}, '
        f'{_unique(results, lambda r: r["machine"]["cores"])} cores',
        f'- torch: {_unique(results, lambda r: r["torch"])}',
        f'- git commits: {_unique(results, lambda r: r["git"]["commit"])}',
        f'- dates: {_unique(results, lambda r: r["date"][:10])}',
        '',
        '| method | row | seeds | iters | best val mIoU | best val iter '
        '| test mIoU | Δ test vs supervised | Δ test vs mean teacher '
        '| wall time (min) |',
        '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ]
    summaries = []
    for g in groups:
        s = summarize(g)
        summaries.append(s)
        deltas = [
            fmt_delta(
                paired_delta(g, bases.get((base, s['iters']))), s['seeds'])
            for base in ('supervised', 'meanteacher')
        ]
        lines.append(f'| {s["method"]} | `{s["row"]}` | '
                     f'{", ".join(map(str, s["seeds"]))} | {s["iters"]} | '
                     f'{fmt(s["best_val"])} | {fmt(s["best_iter"], 0)} | '
                     f'{fmt(s["test"])} | {" | ".join(deltas)} | '
                     f'{fmt(s["minutes"], 1)} |')
    classes = list(summaries[0]['per_class']) if summaries else []
    lines += [
        '',
        '## Per-class test IoU',
        '',
        '| row | iters | ' + ' | '.join(classes) + ' |',
        '| --- | ---: |' + ' ---: |' * len(classes),
    ]
    for s in summaries:
        cells = [fmt(s['per_class'].get(c), 1) for c in classes]
        lines.append(f'| `{s["row"]}` | {s["iters"]} | ' + ' | '.join(cells) +
                     ' |')
    lines += [
        '', '## Val mIoU during training', '',
        f'![val mIoU vs iteration]({png_name})', '', '## Runs', '',
        '| row | seed | iters | val interval | test mIoU | wall time (min) '
        '| command |', '| --- | ---: | ---: | ---: | ---: | ---: | --- |'
    ]
    for r in results:
        lines.append(f'| `{r["row"]}` | {r["seed"]} | {r["iters"]} | '
                     f'{r["val_interval"]} | {r["test"]["mIoU"]:.2f} | '
                     f'{r["wall_time_s"]["total"] / 60:.1f} | '
                     f'`{r["command"]}` |')
    return '\n'.join(lines) + '\n'


def plot_curves(results: Sequence[dict], path: str) -> None:
    """Val mIoU (of the selected model) vs iteration: one colour per row,
    one line per seed (line style by seed)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 5))
    colours = plt.rcParams['axes.prop_cycle'].by_key()['color']
    styles = ['-', '--', ':', '-.']
    rows = [g[0]['row'] for g in group_results(results)]
    for r in results:
        if not r['val_curve']:
            continue
        iters, values = zip(*r['val_curve'])
        colour = colours[rows.index(r['row']) % len(colours)]
        label = f'{r["row"]} ({r["iters"]} it) seed {r["seed"]}'
        ax.plot(
            iters,
            values,
            styles[r['seed'] % len(styles)],
            color=colour,
            marker='o',
            markersize=3,
            label=label)
    ax.set_xlabel('iteration')
    ax.set_ylabel('val mIoU (teacher for semi-supervised rows)')
    ax.set_title('CamVid 1/8: val mIoU during training')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def report(args) -> str:
    """Write the Markdown table and the val-curve plot; returns the
    Markdown."""
    results = load_results(args.results_dir)
    if not results:
        raise BenchmarkError(
            f'no results in {osp.join(args.results_dir, BENCHMARK)}: run '
            '`python benchmarks/camvid_semi.py run ROW --seed S` first')
    md_path = osp.join(args.results_dir, f'{BENCHMARK}.md')
    os.makedirs(args.figure_dir, exist_ok=True)
    png_path = osp.join(args.figure_dir, f'{BENCHMARK}_val_curves.png')
    text = markdown_report(results, osp.relpath(png_path, args.results_dir))
    with open(md_path, 'w') as f:
        f.write(text)
    plot_curves(results, png_path)
    print(text)
    print(f'[{BENCHMARK}] wrote {md_path} and {png_path}')
    return text


# ---------------------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog='See the module docstring (benchmarks/camvid_semi.py) for '
        'the rows, outputs and how the default budget was chosen.')
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('run', help='train, select on val and test one row')
    p.add_argument('row', choices=list(ROWS), help='the method')
    p.add_argument('--seed', type=int, default=0, help='random seed')
    p.add_argument(
        '--iters',
        type=int,
        default=DEFAULT_ITERS,
        help=f'training iterations (default {DEFAULT_ITERS}: the full '
        'ViLaDiff row in about 40 min on the 2-core CPU machine)')
    p.add_argument(
        '--val-interval',
        type=int,
        help=f'iterations between validations and checkpoints (default '
        f'iters / {VALIDATIONS})')
    p.add_argument(
        '--work-dir',
        help='work dir of the run (default benchmarks/work_dirs/camvid_semi/'
        'ROW_seedS)')
    p.add_argument(
        '--caption-file',
        help='caption JSONL for rows with captions (default benchmarks/'
        'work_dirs/captions/camvid_template_seedS.jsonl)')
    p.add_argument(
        '--captions',
        action='store_true',
        help='regenerate the captions even if the file is complete')
    p.add_argument(
        '--num-workers',
        type=int,
        help='dataloader workers for train/val/test (default: the config\'s)')
    p.add_argument(
        '--resume',
        action='store_true',
        help='continue the run in the work dir from its latest checkpoint')
    p.add_argument(
        '--results-dir',
        default=RESULTS_DIR,
        help='where result JSON goes (under camvid_semi/)')
    p = sub.add_parser(
        'report', help='Markdown table + val-curve PNG from all results')
    p.add_argument(
        '--results-dir',
        default=RESULTS_DIR,
        help='folder holding camvid_semi/*.json; camvid_semi.md is '
        'written there')
    p.add_argument(
        '--figure-dir',
        default=FIGURE_DIR,
        help='where camvid_semi_val_curves.png goes (default docs/figures)')
    args = parser.parse_args(argv)
    if args.command == 'run':
        if args.iters < 1:
            parser.error('--iters must be >= 1')
        if args.val_interval is not None and not 1 <= args.val_interval <= \
                args.iters:
            parser.error('--val-interval must be in [1, iters]')
        args.results_dir = osp.abspath(args.results_dir)
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.command == 'run':
            run(args)
        else:
            report(args)
    except BenchmarkError as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
