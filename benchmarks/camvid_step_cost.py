"""Seconds per training iteration of each CamVid row, measured side by side.

The ``train s/it`` column of ``benchmarks/results/camvid_semi.md`` is the
median step time of each full run, and the runs shared the machine with
whatever else ran then (another pinned row, test suites): it tells how long
a row took, not what its method costs. This script measures the cost: for
each row it trains the row's own config (``benchmarks/camvid_semi.py``'s
overrides, same data, crops and batch) for ``--iters`` iterations with
``tools/train.py`` in a subprocess, logging every iteration, and reports
the median ``time`` (s per iteration, data loading included) after the
first ``--skip`` iterations. Rows run one after another in the same
conditions, so their ratios are comparable; weights are not loaded (the
burn-in rows' supervised checkpoint does not change the compute) and no
validation runs. Rows with captions use the caption file of the CamVid
benchmark when it exists (run the row once first) and are skipped
otherwise.

    taskset -c 0 env OMP_NUM_THREADS=1 python benchmarks/camvid_step_cost.py \\
        [--rows supervised meanteacher unimatch cid dyce] [--iters 25] \\
        [--skip 5] [--out benchmarks/results/camvid_step_cost.md]

Prints a table (row, s/it, data s/it, x supervised, x mean teacher) and
writes it, with the machine, threads and date, to ``--out`` (and the raw
numbers next to it as JSON).
"""
import argparse
import datetime
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
from typing import List, Optional

# benchmarks/camvid/, beside this script (on sys.path when run as one)
from camvid.errors import BenchmarkError
from camvid.outputs import read_scalars
from camvid.paths import RESULTS_DIR, ROOT, TRAIN
from camvid.provenance import git_commit, machine_info, torch_version
from camvid.rows import ROWS, build_run_config

DEFAULT_ROWS = ('supervised', 'meanteacher', 'unimatch', 'cid', 'dyce',
                'unimatch-dyce', 'supervised-diffrefine',
                'meanteacher-diffrefine', 'supervised-semivl', 'semivl',
                'supervised-hiervl', 'hiervl')


def step_times(records: List[dict], skip: int) -> List[float]:
    """Per-iteration ``time`` of the training records after the first
    ``skip`` iterations (mmengine logs ``time`` and ``data_time`` per
    logged iteration; validation records have no ``loss``)."""
    return [
        r['time'] for r in records
        if 'loss' in r and 'time' in r and int(r['step']) > skip
    ]


def data_times(records: List[dict], skip: int) -> List[float]:
    return [
        r['data_time'] for r in records
        if 'loss' in r and 'data_time' in r and int(r['step']) > skip
    ]


def measure_row(name: str, iters: int, skip: int, seed: int,
                work_root: str, caption_file: Optional[str]) -> dict:
    """Train ``name`` for ``iters`` iterations; its median step times."""
    row = ROWS[name]
    work_dir = osp.join(work_root, name)
    cfg = build_run_config(row, seed, iters, work_dir, iters + 1,
                           caption_file, num_workers=1)
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.save_last = False
    cfg.default_hooks.checkpoint.save_best = None
    os.makedirs(work_dir, exist_ok=True)
    dumped = osp.join(work_dir, f'{name}.py')
    cfg.dump(dumped)
    proc = subprocess.run(
        [sys.executable, TRAIN, dumped, '--work-dir', work_dir],
        cwd=ROOT,
        capture_output=True,
        text=True)
    if proc.returncode != 0:
        raise BenchmarkError(f'{name}: training failed (exit '
                             f'{proc.returncode}):\n{proc.stderr[-3000:]}')
    records = read_scalars(work_dir)
    times, waits = step_times(records, skip), data_times(records, skip)
    if not times:
        raise BenchmarkError(f'{name}: no training step after iteration '
                             f'{skip} was logged in {work_dir}')
    return dict(
        row=name,
        label=row.label,
        iters=len(times),
        s_per_it=statistics.median(times),
        data_s_per_it=statistics.median(waits) if waits else None)


def ratio(value: float, base: Optional[dict]) -> str:
    return '-' if base is None else f'{value / base["s_per_it"]:.2f}'


def markdown(results: List[dict], meta: dict) -> str:
    by_row = {r['row']: r for r in results}
    sup, mt = by_row.get('supervised'), by_row.get('meanteacher')
    lines = [
        '# Seconds per training iteration of the CamVid rows', '',
        'Written by `python benchmarks/camvid_step_cost.py`: each row\'s '
        'config (the CamVid benchmark\'s overrides: 8 labeled + 8 unlabeled '
        '192x192 crops for semi-supervised rows, 8 labeled for supervised '
        f'ones) trained for {meta["iters"]} iterations one after another in '
        f'the same conditions; median time of iterations {meta["skip"] + 1}'
        f'-{meta["iters"]} (data loading included).', '',
        f'- machine: {meta["machine"]["cpu"]}, '
        f'{meta["machine"]["cores"]} cores; threads: '
        f'{meta["threads"]}; CPUs allowed: {meta["cpus_allowed"]}',
        f'- torch: {meta["torch"]}; git commit: {meta["commit"]}',
        f'- date: {meta["date"]}', '',
        '| row | method | s/it | data s/it | x supervised | x mean teacher |',
        '| --- | --- | ---: | ---: | ---: | ---: |'
    ]
    for r in results:
        data = '-' if r['data_s_per_it'] is None else \
            f'{r["data_s_per_it"]:.3f}'
        lines.append(f'| `{r["row"]}` | {r["label"]} | {r["s_per_it"]:.2f} '
                     f'| {data} | {ratio(r["s_per_it"], sup)} | '
                     f'{ratio(r["s_per_it"], mt)} |')
    return '\n'.join(lines) + '\n'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--rows', nargs='+', default=list(DEFAULT_ROWS),
                        choices=sorted(ROWS), metavar='ROW',
                        help='rows of benchmarks/camvid_semi.py (default: '
                        f'{" ".join(DEFAULT_ROWS)})')
    parser.add_argument('--iters', type=int, default=25,
                        help='training iterations per row')
    parser.add_argument('--skip', type=int, default=5,
                        help='first iterations left out of the median')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--caption-file', default=None,
                        help='caption JSONL for rows with captions')
    parser.add_argument('--out', default=osp.join(RESULTS_DIR,
                                                  'camvid_step_cost.md'))
    args = parser.parse_args(argv)
    if not 0 <= args.skip < args.iters:
        parser.error(f'--skip must be in [0, --iters), got {args.skip}')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix='step_cost_') as work_root:
        for name in args.rows:
            caption_file = args.caption_file
            if ROWS[name].captions and caption_file is None:
                print(f'[step_cost] {name}: skipped (needs --caption-file)')
                continue
            try:
                result = measure_row(name, args.iters, args.skip, args.seed,
                                     work_root, caption_file)
            except BenchmarkError as e:
                print(f'[step_cost] error: {e}', file=sys.stderr)
                return 1
            print(f'[step_cost] {name}: {result["s_per_it"]:.2f} s/it',
                  flush=True)
            results.append(result)
    meta = dict(
        iters=args.iters,
        skip=args.skip,
        machine=machine_info(),
        threads=os.environ.get('OMP_NUM_THREADS', 'torch default'),
        cpus_allowed=len(os.sched_getaffinity(0)),
        torch=torch_version(),
        commit=git_commit()['commit'],
        date=datetime.date.today().isoformat())
    text = markdown(results, meta)
    print(text)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        f.write(text)
    with open(osp.splitext(args.out)[0] + '.json', 'w') as f:
        json.dump(dict(meta, rows=results), f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
