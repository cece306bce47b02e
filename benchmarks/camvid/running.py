"""Running one row and seed: captions when the row needs them (template
ones from the supervised model, or diagnostic oracle ones from the label
maps), ``tools/train.py`` and ``tools/test.py`` as subprocesses on the
dumped config, optionally ``tools/test_infer_modes.py`` on the selected
checkpoint, and the result JSON."""
import datetime
import glob
import json
import os
import os.path as osp
import shlex
import subprocess
import sys
import time
from typing import List, Optional

from .errors import BenchmarkError
from .outputs import (best_checkpoint, median_train_scalar, read_scalars,
                      read_test_metrics, val_curve)
from .paths import (BENCHMARK, CAPTION_TOOL, INFER_MODES_TOOL, ROOT, TEST,
                    TRAIN, default_caption_file, default_work_dir, result_path)
from .provenance import git_commit, machine_info, torch_version
from .rows import ROWS, VALIDATIONS, build_run_config, metric_key

#: the config whose datasets list every image to caption (train, val, test)
CAPTION_SOURCE = 'configs/viladiff/meanteacher-vl_effnetl0_camvid_1-8.py'


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


def read_caption_source(caption_file: str) -> Optional[tuple]:
    """(captioner, model) of the first record of a caption file (None if
    the file is missing or empty); the model of template captions is the
    checkpoint they were written from."""
    if not osp.isfile(caption_file):
        return None
    with open(caption_file) as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                return record.get('captioner'), record.get('model')
    return None


def read_caption_checkpoint(caption_file: str) -> Optional[str]:
    """The checkpoint named by the first record of a caption file (None if
    the file is missing or empty)."""
    source = read_caption_source(caption_file)
    return source and source[1]


def row_model(results_dir: str, row: str, seed: int, use: str):
    """(best checkpoint, config dump) of ``row``'s run of ``seed``.

    Args:
        use (str): what needs it, for the error message.

    Raises:
        BenchmarkError: the row has not been run, or its files are gone.
    """
    path = result_path(results_dir, row, seed)
    rerun = f'`python benchmarks/camvid_semi.py run {row} --seed {seed}`'
    if not osp.isfile(path):
        raise BenchmarkError(
            f'{use} come from the {row} model of the same seed, but '
            f'{path} does not exist: run {rerun} first')
    with open(path) as f:
        result = json.load(f)
    ckpt, seg_config = result['best_checkpoint'], result['config_dump']
    for file in (ckpt, seg_config):
        if not osp.isfile(file):
            raise BenchmarkError(
                f'{file} (from {path}) is gone: re-run {rerun}')
    return ckpt, seg_config


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
    ckpt, seg_config = row_model(results_dir, 'supervised', seed, 'captions')
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


def ensure_oracle_captions(captioner: str, caption_file: str,
                           force: bool) -> dict:
    """Oracle captions ('oracle' or 'oracle-regions') of every CamVid image,
    written from the label maps by ``tools/generate_captions.py``: a
    DIAGNOSTIC that reads the labels of unlabeled and test images (about 1
    min on the 2-core machine, 701 images; seed-independent, so one file
    serves every seed).

    Returns:
        dict: ``file``, ``captioner``, ``model`` (the label-map settings),
        ``diagnostic`` (True) and ``seconds``.
    """
    source = read_caption_source(caption_file)
    if source is not None and (force or source[0] != captioner):
        print(f'[{BENCHMARK}] regenerating {caption_file} (it holds '
              f'{source[0]!r} captions)')
        os.remove(caption_file)
    os.makedirs(osp.dirname(caption_file), exist_ok=True)
    seconds = run_command([
        sys.executable, CAPTION_TOOL, CAPTION_SOURCE, '--out', caption_file,
        '--captioner', captioner, '--no-progress'
    ], f'{captioner} captions (diagnostic: read the labels)')
    return dict(
        file=caption_file,
        captioner=captioner,
        model=read_caption_source(caption_file)[1],
        diagnostic=True,
        seconds=seconds)


def row_captions(row, args) -> Optional[dict]:
    """The captions ``row`` trains with (generated when missing), or None
    for a row without captions."""
    if not row.captions:
        return None
    caption_file = osp.abspath(
        args.caption_file or default_caption_file(args.seed, row.captioner))
    if row.captioner == 'template':
        info = ensure_captions(args.seed, caption_file, args.results_dir,
                               args.captions)
        return dict(info, captioner='template')
    return ensure_oracle_captions(row.captioner, caption_file, args.captions)


def infer_mode_metrics(dumped: str, ckpt: str, work_dir: str) -> dict:
    """val and test mIoU of ``ckpt`` in each VL inference mode
    (``tools/test_infer_modes.py``), ``{split: {mode: metrics}}``."""
    out = {}
    for split in ('val', 'test'):
        table = osp.join(work_dir, f'infer_modes_{split}.json')
        run_command([
            sys.executable, INFER_MODES_TOOL, dumped, ckpt, '--split', split,
            '--work-dir',
            osp.join(work_dir, f'infer_modes_{split}'), '--out', table
        ], f'inference modes ({split})')
        with open(table) as f:
            out[split] = json.load(f)['modes']
    return out


def check_work_dir(work_dir: str, resume: bool) -> None:
    """A fresh run refuses a work dir that already holds checkpoints (their
    best_*.pth would be mixed up with the new run's)."""
    if not resume and glob.glob(osp.join(work_dir, '*.pth')):
        raise BenchmarkError(f'{work_dir} already holds checkpoints: pass '
                             '--resume to continue that run, or remove the '
                             'folder')


def run(args) -> dict:
    """Train, test and record one row and seed; returns the result.

    Args:
        args (Namespace): the ``run`` command line of
            ``benchmarks/camvid_semi.py`` (``args.iters`` already resolved
            by :func:`~camvid.rows.row_iters`).
    """
    row = ROWS[args.row]
    work_dir = osp.abspath(
        args.work_dir or default_work_dir(args.row, args.seed))
    val_interval = args.val_interval or max(1, args.iters // VALIDATIONS)
    check_work_dir(work_dir, args.resume)
    start = time.perf_counter()
    commit = git_commit()  # the code the run starts with
    init = None
    if row.init_from:  # burn-in: start from that row's model
        init = row_model(args.results_dir, row.init_from, args.seed,
                         'initial weights')[0]
    captions = row_captions(row, args)
    cfg = build_run_config(row, args.seed, args.iters, work_dir, val_interval,
                           captions and captions['file'], args.num_workers)
    if init is not None:
        cfg.load_from = init
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
    infer_modes = None
    if getattr(args, 'infer_modes', False):
        infer_modes = infer_mode_metrics(dumped, ckpt, work_dir)
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
        infer_modes=infer_modes,
        captions=captions,
        init_checkpoint=init,
        resumed=bool(args.resume),
        median_train_iter_s=median_train_scalar(records, 'time'),
        median_data_time_s=median_train_scalar(records, 'data_time'),
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
