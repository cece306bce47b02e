"""CamVid 1/8 ablation: supervised -> mean teacher -> + diffusion / + VL ->
full ViLaDiff, and the fully supervised ceiling, on one CPU budget.

Every row trains the ImageNet-pretrained EfficientNet-Lite0 DeepLabV3+ at
output stride 16 with the configs' recipe (images rescaled to 0.5-1x of
480x360, 192x192 crops, class-balanced cross-entropy, test at the native
480x360; batch 8 labeled crops, plus 8 unlabeled ones in semi-supervised
rows), selects the checkpoint with the best val mIoU (the teacher's,
``teacher/mIoU``, for semi-supervised rows; ``mIoU`` for supervised ones)
and evaluates it on the 233 test images. The ``meanteacher`` row starts
from the best checkpoint of the ``supervised`` row of the same seed
(supervised burn-in) and trains 400 semi-supervised iterations.

Rows (``ROWS``; configs under ``configs/``)::

    supervised              baselines/deeplabv3p_effnetl0_camvid_1-8.py
    meanteacher             viladiff/meanteacher_effnetl0_camvid_1-8.py
    meanteacher-unsupcw     the same, class-weighted loss on pseudo labels
    meanteacher-lr0.01      the same at lr 0.01 (the row's is 0.001)
    meanteacher-tau0.95     the same, one threshold 0.95 for all classes
    meanteacher-tau0.8      the same, one threshold 0.8 for all classes
    unimatch                viladiff/unimatch_effnetl0_camvid_1-8.py (the
                            mean teacher + UniMatch's perturbations), burn-in
    cid                     viladiff/cid_effnetl0_camvid_1-8.py (burn-in
                            as meanteacher)
    dyce                    viladiff/dyce_effnetl0_camvid_1-8.py (burn-in
                            as meanteacher)
    unimatch-dyce           viladiff/unimatch-dyce_effnetl0_camvid_1-8.py
                            (UniMatch's perturbations + DyCE, burn-in)
    meanteacher-vl-template viladiff/meanteacher-vl_effnetl0_camvid_1-8.py
                            on the burn-in protocol, template captions
    meanteacher-vl-oracle   the same with ORACLE captions (diagnostic, reads
                            labels): classes, size and position words
    meanteacher-vl-oracle-regions
                            the same, ORACLE captions listing the classes of
                            each 3x3 cell and counting small objects
    supervised-vl-oracle    viladiff/vl-sup_effnetl0_camvid_1-8.py: the
                            VL neck's own phase on the frozen supervised
                            model, ORACLE captions (diagnostic)
    meanteacher-vl-oracle-neck
                            meanteacher-vl-oracle from ^
    supervised-diffrefine   viladiff/diffrefine-sup_effnetl0_camvid_1-8.py:
                            the refiner's phase on the frozen supervised
                            model (-cw: class-weighted refiner loss)
    meanteacher-diffrefine  viladiff/meanteacher-diffrefine_effnetl0_
                            camvid_1-8.py, burn-in from ^ (-cw: from
                            supervised-diffrefine-cw)
    meanteacher-vl          viladiff/meanteacher-vl_effnetl0_camvid_1-8.py
    viladiff                viladiff/deeplabv3p_effnetl0_camvid_1-8.py
                            (burn-in from supervised-diffrefine, template
                            captions, refined pseudo labels)
    supervised-semivl       viladiff/semivl-sup_effnetl0_camvid_1-8.py (the
                            SemiVL head, trained as supervised)
    semivl                  viladiff/semivl_effnetl0_camvid_1-8.py, burn-in
                            from ^
    supervised-hiervl       viladiff/hiervl-sup_effnetl0_camvid_1-8.py (the
                            HierVL-style head, trained as supervised)
    hiervl                  viladiff/hiervl_effnetl0_camvid_1-8.py, burn-in
                            from ^
    fully-supervised        baselines/deeplabv3p_effnetl0_camvid_full.py

Usage (one row and seed per process; rows with captions and the
``meanteacher`` row need the ``supervised`` row of the same seed first)::

    python benchmarks/camvid_semi.py run supervised --seed 0
    python benchmarks/camvid_semi.py run meanteacher --seed 0  # burn-in: ^
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
IoU of the selected checkpoint, the median logged time and data-loading
time of a training iteration, wall times, machine, date, git commit, torch
version and the command. Overrides: ``randomness.seed``,
``train_cfg.max_iters``, PolyLR ``end``, ``train_cfg.val_interval`` (default
iters / 4), checkpoint interval (= val interval), ``save_best``,
``load_from`` (burn-in rows).

Captions (``meanteacher-vl``, ``meanteacher-vl-template``, ``viladiff``):
template captions from the best checkpoint of the ``supervised`` row of
the same seed, written by ``tools/generate_captions.py`` to
``benchmarks/work_dirs/captions/camvid_template_seedS.jsonl`` (every
LoadCaption of the config reads that file). They are generated when the
file is missing, was written from another checkpoint, or ``--captions`` is
given; an interrupted generation resumes. The ``-oracle`` rows read
``camvid_oracle.jsonl`` / ``camvid_oracle-regions.jsonl`` there, written
from the ground-truth label maps of all 701 images (about 1 min; one file
for every seed): a DIAGNOSTIC that reads the labels of unlabeled and test
images, an upper bound on what informative text gives, never a result.

``--infer-modes`` (VL rows): the selected checkpoint is also evaluated on
val and test in each inference mode (captions, class text only, no text;
``tools/test_infer_modes.py``), recorded as ``infer_modes`` in the result
JSON (about 3 x (16 + 45) s more).

``report`` reads every result JSON and writes
``benchmarks/results/camvid_semi.md`` (mean +- half-range over seeds, and
per-class test IoU) and ``docs/figures/camvid_semi_val_curves.png``.

Default budget: 2000 iterations (``DEFAULT_ITERS``), 4 validations, for
every row that sets no ``iters`` of its own (``--iters`` overrides both;
the result JSON records the iterations run). At output stride 16 a
supervised iteration (batch 8) takes about 0.85 s on the 2-core machine
(data loading 0.01 s of it), one validation at 480x360 about 16 s per model
(101 images), the test step about 45 s: about 31 min a supervised row. A
machine shared with other jobs runs much slower (two trainings on the two
cores slowed each other about 8x): each result JSON records its wall time
and the median iteration time.

This file is the command line; the code is the package ``camvid/`` beside
it (run as a script, this folder is on ``sys.path``): ``rows.py`` (the
rows and the config a run trains), ``running.py`` (captions, train and
test subprocesses, the result JSON), ``outputs.py`` (reading what mmengine
and ``tools/test.py`` wrote), ``provenance.py``, ``reporting.py`` (the
Markdown report and plot) and ``paths.py``.
"""
import argparse
import os.path as osp
import sys

from camvid import (DEFAULT_ITERS, FIGURE_DIR, RESULTS_DIR, ROWS, VALIDATIONS,
                    BenchmarkError, report, row_iters, run)


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
        help=f'training iterations (default: the row\'s, else '
        f'{DEFAULT_ITERS}: the full ViLaDiff row in about 40 min on the '
        '2-core CPU machine)')
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
        'work_dirs/captions/camvid_template_seedS.jsonl, or '
        'camvid_oracle[-regions].jsonl for the oracle rows)')
    p.add_argument(
        '--captions',
        action='store_true',
        help='regenerate the captions even if the file is complete')
    p.add_argument(
        '--infer-modes',
        action='store_true',
        help='VL rows: also test the selected checkpoint with caption, '
        'class and vision inference (val and test)')
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
        if args.iters is not None and args.iters < 1:
            parser.error('--iters must be >= 1')
        args.iters = row_iters(ROWS[args.row], args.iters)
        if args.val_interval is not None and not 1 <= args.val_interval <= \
                args.iters:
            parser.error('--val-interval must be in [1, iters]')
        args.results_dir = osp.abspath(args.results_dir)
        if args.infer_modes and not ROWS[args.row].captions:
            parser.error(f'--infer-modes: row {args.row} has no '
                         'vision-language path')
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
