"""The CamVid ablation's report step, on fabricated result files (inputs of
the report, not results), its command line and step times, and a smoke run
of one row (slow)."""
import json
import os.path as osp
import subprocess
import sys

import camvid_semi
import pytest
from camvid import DEFAULT_ITERS, ROWS, Row, median_train_scalar
from conftest import CAMVID_ROOT, REPO_ROOT
from helpers import run_camvid_row

SCRIPT = osp.join(REPO_ROOT, 'benchmarks', 'camvid_semi.py')


def fake_result(row, seed, val, test, iters=100):
    return dict(
        benchmark='camvid_semi',
        row=row,
        method=row,
        seed=seed,
        iters=iters,
        val_interval=50,
        val_curve=[[50, val - 5], [100, val]],
        best_val=dict(iteration=100, mIoU=val),
        test=dict(mIoU=test, per_class_iou=dict(sky=test + 10, road=test)),
        wall_time_s=dict(total=600.0),
        median_train_iter_s=3.0 + seed,
        machine=dict(cpu='test cpu', cores=2),
        torch='2.x',
        git=dict(commit='abc'),
        date='2026-11-22T10:00:00',
        command='python benchmarks/camvid_semi.py run')


def test_report_means_spreads_and_plot(tmp_path):
    module = camvid_semi
    folder = tmp_path / 'camvid_semi'
    folder.mkdir()
    results = [('supervised', 0, 40.0, 38.0), ('supervised', 1, 42.0, 40.0),
               ('meanteacher', 0, 48.0, 45.0), ('meanteacher', 1, 50.0, 48.0),
               ('meanteacher-tau0.8', 0, 49.0, 46.5),
               ('meanteacher-tau0.8', 2, 49.0, 50.0)]
    for row, seed, val, test in results:
        with open(folder / f'{row}_seed{seed}.json', 'w') as f:
            json.dump(fake_result(row, seed, val, test), f)
    text = module.report(
        module.parse_args([
            'report', '--results-dir',
            str(tmp_path), '--figure-dir',
            str(tmp_path / 'fig')
        ]))
    lines = {
        ln.split('|')[2].strip(): ln
        for ln in text.splitlines()
        if ln.startswith('| ') and '`' in ln.split('|')[2]
    }
    # mean ± half-range over the two seeds
    assert '41.00 ± 1.00' in lines['`supervised`']  # val
    assert '39.00 ± 1.00' in lines['`supervised`']  # test
    assert '46.50 ± 1.50' in lines['`meanteacher`']
    # seconds per training iteration (3 s at seed 0, 4 s at seed 1)
    assert '| 3.5 ± 0.5 | 10.0 ± 0.0 |' in lines['`meanteacher`']
    assert '56.5 ± 1.5' in text  # per-class sky of mean teacher
    # deltas pair the seeds: +7 (seed 0) and +8 (seed 1)
    assert '| +7.50 ± 0.50 | +0.00 ± 0.00 |' in lines['`meanteacher`']
    assert '| -7.50 ± 0.50 |' in lines['`supervised`']
    # seeds the baseline lacks are left out of the delta, which says so
    assert '48.25 ± 1.75' in lines['`meanteacher-tau0.8`']
    assert ('| +8.50 ± 0.00 (seed 0) | +1.50 ± 0.00 (seed 0) |'
            in lines['`meanteacher-tau0.8`'])
    assert (tmp_path / 'camvid_semi.md').read_text() == text
    assert '](fig/camvid_semi_val_curves.png)' in text
    assert (tmp_path / 'fig' /
            'camvid_semi_val_curves.png').stat().st_size > 1000


def test_burn_in_rows_pair_with_the_model_they_start_from(tmp_path):
    from camvid.reporting import burn_in_iters, markdown_report
    results = []
    for seed, (sup, mt) in enumerate(((40.0, 44.5), (42.0, 45.0))):
        results.append(fake_result('supervised', seed, 50.0, sup, 2000))
        semi = fake_result('meanteacher', seed, 52.0, mt, 800)
        semi['init_checkpoint'] = f'/w/supervised_seed{seed}/' \
            'best_mIoU_iter_2000.pth'
        results.append(semi)
    assert burn_in_iters(results[1]) == 2000
    assert burn_in_iters(results[0]) == 0
    text = markdown_report(results, 'curves.png')
    line = next(ln for ln in text.splitlines()
                if ln.startswith('| ') and '`meanteacher`' in ln)
    # deltas per seed: +4.5 and +3.0 -> +3.75 ± 0.75
    assert '| +3.75 ± 0.75 |' in line
    # a row two steps from the supervised model (its refiner's phase, then
    # the mean teacher) still pairs with it, and with the mean teacher
    for seed, test in enumerate((46.0, 46.5)):
        results.append(fake_result('supervised-diffrefine', seed, 53., 45.,
                                   500))
        results.append(fake_result('meanteacher-diffrefine', seed, 54., test,
                                   800))
    line = next(ln for ln in markdown_report(results, 'c.png').splitlines()
                if '`meanteacher-diffrefine`' in ln)
    # vs supervised +6.0, +4.5; vs the mean teacher +1.5, +1.5
    assert '| +5.25 ± 0.75 | +1.50 ± 0.00 |' in line


def test_unimatch_row_is_the_mean_teacher_protocol_on_its_config():
    mean_teacher, unimatch = ROWS['meanteacher'], ROWS['unimatch']
    assert unimatch.config == \
        'configs/viladiff/unimatch_effnetl0_camvid_1-8.py'
    assert unimatch._replace(
        config=mean_teacher.config, label=mean_teacher.label) == mean_teacher


def test_iters_fall_back_to_the_row_then_the_default(monkeypatch):
    monkeypatch.setitem(
        ROWS, 'short',
        Row(ROWS['supervised'].config, False, False, 'short', iters=120))
    parse = camvid_semi.parse_args
    assert parse(['run', 'short']).iters == 120
    assert parse(['run', 'short', '--iters', '40']).iters == 40
    assert parse(['run', 'supervised']).iters == DEFAULT_ITERS
    assert parse(['run', 'supervised', '--iters', '40']).iters == 40
    # --val-interval is checked against the row's budget, not the default
    assert parse(['run', 'short', '--val-interval', '120']).val_interval == 120
    with pytest.raises(SystemExit):
        parse(['run', 'short', '--val-interval', '121'])


def test_step_times_are_medians_of_training_records():
    # mmengine's scalars.json: training records carry a loss; validation
    # records log time and data_time too, and must not count
    records = [
        dict(step=1, loss=1.0, time=0.7, data_time=0.1),
        dict(step=2, loss=0.9, time=0.9, data_time=0.3),
        dict(step=3, loss=0.8, time=0.8, data_time=0.2),
        dict(step=3, mIoU=40.0, time=5.0, data_time=4.0),
        dict(step=4, loss=0.7, time=0.6),
    ]
    assert median_train_scalar(records, 'time') == pytest.approx(0.75)
    assert median_train_scalar(records, 'data_time') == pytest.approx(0.2)
    assert median_train_scalar(records[3:4], 'time') is None


def test_report_without_results_is_a_clear_error(tmp_path):
    proc = subprocess.run(
        [sys.executable, SCRIPT, 'report', '--results-dir',
         str(tmp_path)],
        capture_output=True,
        text=True)
    assert proc.returncode == 1 and 'run ROW --seed S' in proc.stderr


@pytest.mark.parametrize('row', ['viladiff', 'meanteacher'])
def test_rows_built_on_the_supervised_row_need_it(tmp_path, row):
    # captions (viladiff) and the burn-in (meanteacher) come from it
    proc = subprocess.run([
        sys.executable, SCRIPT, 'run', row, '--seed', '7',
        '--results-dir',
        str(tmp_path), '--work-dir',
        str(tmp_path / 'w'), '--caption-file',
        str(tmp_path / 'c.jsonl')
    ],
                          capture_output=True,
                          text=True,
                          cwd=REPO_ROOT)
    assert proc.returncode == 1
    assert 'supervised' in proc.stderr and 'Traceback' not in proc.stderr


@pytest.mark.slow
@pytest.mark.skipif(not osp.isdir(CAMVID_ROOT), reason='CamVid not here')
def test_supervised_row_smoke(tmp_path):
    proc = run_camvid_row('supervised', tmp_path, tmp_path / 'w', iters=4)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(tmp_path / 'camvid_semi' / 'supervised_seed0.json') as f:
        result = json.load(f)
    assert [i for i, _ in result['val_curve']] == [2, 4]
    assert result['best_val']['iteration'] in (2, 4)
    assert 0 <= result['test']['mIoU'] <= 100
    assert len(result['test']['per_class_iou']) == 11
    # the mean teacher starts from that row's best checkpoint (burn-in)
    proc = run_camvid_row('meanteacher', tmp_path, tmp_path / 'mt')
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(tmp_path / 'camvid_semi' / 'meanteacher_seed0.json') as f:
        semi = json.load(f)
    assert semi['init_checkpoint'] == result['best_checkpoint']
    assert semi['val_metric'] == 'teacher/mIoU'
    assert 'load checkpoint from' in (tmp_path / 'mt').joinpath(
        *_single_log(tmp_path / 'mt')).read_text().lower()


def _single_log(work_dir):
    """Path parts (relative to ``work_dir``) of the run's one log file."""
    logs = sorted(work_dir.glob('*/*.log'))
    assert len(logs) == 1, logs
    return logs[0].relative_to(work_dir).parts
