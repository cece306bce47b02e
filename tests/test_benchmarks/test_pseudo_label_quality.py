"""The pseudo-label benchmark: its counting on hand-made label maps, its
report, its errors, and a real run on a 4-iteration mean teacher (slow)."""
import importlib.util
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch
from conftest import CAMVID_ROOT, REPO_ROOT
from helpers import run_camvid_row

SCRIPT = osp.join(REPO_ROOT, 'benchmarks', 'pseudo_label_quality.py')


def load_script():
    spec = importlib.util.spec_from_file_location('pseudo_label_quality',
                                                  SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_counts_coverage_precision_and_class_signal():
    module = load_script()
    counts = module.Counts(3, [0.9, 0.5, 0.0])
    # 6 pixels (one ignored): true 0 0 1 1 2 | 255
    gt = torch.tensor([[[0, 0, 1, 1, 2, 255]]])
    labels = torch.tensor([[[0, 1, 1, 0, 2, 2]]])
    confidence = torch.tensor([[[0.95, 0.6, 0.99, 0.3, 0.7, 1.0]]])
    counts.add(confidence, labels, gt)
    s = counts.summary(['a', 'b', 'c'])
    by_tau = {t['threshold']: t for t in s['thresholds']}
    assert s['pixels'] == 5
    # tau 0.9: pixels 0 (correct) and 2 (correct) -> 2/5 covered, 100 %
    assert by_tau[0.9]['coverage'] == pytest.approx(40.0)
    assert by_tau[0.9]['precision'] == pytest.approx(100.0)
    # tau 0.5: + pixel 1 (wrong) and 4 (correct) -> 4/5, 3/4 correct
    assert by_tau[0.5]['coverage'] == pytest.approx(80.0)
    assert by_tau[0.5]['precision'] == pytest.approx(75.0)
    assert by_tau[0.5]['correct_share'] == pytest.approx(60.0)
    assert s['pixel_acc'] == pytest.approx(60.0) == by_tau[0.0]['precision']
    # IoU: a 1/3 (tp 1; pred {0,3}, gt {0,1}), b 1/3, c 1/1
    assert s['miou'] == pytest.approx(100 * (1 / 3 + 1 / 3 + 1) / 3)
    b = {t['threshold']: t for t in s['per_class']['b']['by_threshold']}
    assert s['per_class']['b']['pixels'] == 2
    assert b[0.9]['signal'] == pytest.approx(50.0)
    assert b[0.5]['precision'] == pytest.approx(50.0)  # pixels 1 and 2


def test_counts_at_per_class_thresholds():
    module = load_script()
    counts = module.Counts(2, [module.PER_CLASS, 0.9, 0.0])
    gt = torch.tensor([[[0, 0, 1, 1]]])
    labels = torch.tensor([[[0, 0, 1, 0]]])
    confidence = torch.tensor([[[0.95, 0.8, 0.65, 0.7]]])
    # class 0 at 0.9, class 1 at 0.6: pixels 0 and 2 pass, both right
    pixel_tau = torch.tensor([0.9, 0.6])[labels]
    counts.add(confidence, labels, gt, pixel_tau=pixel_tau)
    s = counts.summary(['a', 'b'])
    by_tau = {t['threshold']: t for t in s['thresholds']}
    assert by_tau[module.PER_CLASS]['coverage'] == pytest.approx(50.0)
    assert by_tau[module.PER_CLASS]['precision'] == pytest.approx(100.0)
    assert by_tau[0.9]['coverage'] == pytest.approx(25.0)
    b = {t['threshold']: t for t in s['per_class']['b']['by_threshold']}
    assert b[module.PER_CLASS]['signal'] == pytest.approx(50.0)
    assert b[0.9]['signal'] == pytest.approx(0.0)


def fake_result(module, row, refined):
    counts = module.Counts(2, [0.95, 0.7, 0.0])
    gt = torch.tensor([[[0, 1, 1, 0]]])
    confidence = torch.tensor([[[0.99, 0.8, 0.5, 0.96]]])
    counts.add(confidence, torch.tensor([[[0, 1, 0, 1]]]), gt)
    summary = counts.summary(['road', 'car'])
    return dict(
        benchmark=module.BENCHMARK,
        row=row,
        seed=0,
        checkpoint_iter=100,
        config_threshold=0.95,
        first_head=summary,
        refined=summary if refined else None,
        machine=dict(cpu='test cpu', cores=2),
        date='2026-11-22T10:00:00',
        git=dict(commit='abc'))


def test_report_lists_variants_thresholds_and_classes(tmp_path):
    module = load_script()
    folder = tmp_path / module.BENCHMARK
    folder.mkdir()
    for row, refined in (('viladiff', True), ('meanteacher', False)):
        with open(folder / f'{row}_seed0.json', 'w') as f:
            json.dump(fake_result(module, row, refined), f)
    text = module.write_report(str(tmp_path))
    assert (tmp_path / 'pseudo_labels.md').read_text() == text
    lines = text.splitlines()
    # report order follows camvid_semi's rows: meanteacher before viladiff
    overall = [ln for ln in lines if ln.startswith('| `') and '| 100 |' in ln]
    assert [ln.split('|')[4].strip() for ln in overall
            ] == ['teacher', 'first head', 'refined (diffusion)']
    # tau 0.95: pixels 0 (road, right) and 3 (car, wrong) covered
    assert '| `meanteacher` | 0 | teacher | 0.95 (config) | 50.0 | 50.0 | ' \
        '25.0 |' in text
    assert '## Per class at tau 0.7' in text
    car_095, car_07 = [ln for ln in lines if ln.startswith('| car |')]
    assert car_095.count('0.0 / 0.0') == 3  # no car pixel right at 0.95
    assert car_07.count('50.0 / 50.0') == 3  # pixel 1 right, 3 wrong


def test_unrun_row_is_a_clear_error(tmp_path):
    proc = subprocess.run([
        sys.executable, SCRIPT, 'meanteacher', '--work-dir',
        str(tmp_path / 'none'), '--results-dir',
        str(tmp_path)
    ],
                          capture_output=True,
                          text=True)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    assert 'camvid_semi.py run meanteacher' in proc.stderr


@pytest.mark.slow
@pytest.mark.skipif(not osp.isdir(CAMVID_ROOT), reason='CamVid not here')
def test_meanteacher_row_pseudo_labels(tmp_path):
    work = tmp_path / 'w'
    # the mean teacher starts from the supervised row (burn-in)
    for row, folder in (('supervised', tmp_path / 'sup'), ('meanteacher',
                                                           work)):
        proc = run_camvid_row(row, tmp_path, folder)
        assert proc.returncode == 0, proc.stderr[-3000:]
    proc = subprocess.run([
        sys.executable, SCRIPT, 'meanteacher', '--work-dir',
        str(work), '--results-dir',
        str(tmp_path)
    ],
                          capture_output=True,
                          text=True,
                          cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(tmp_path / 'pseudo_labels' / 'meanteacher_seed0.json') as f:
        result = json.load(f)
    assert result['images'] == 322 and result['refined'] is None
    summary = result['first_head']
    by_tau = {t['threshold']: t for t in summary['thresholds']}
    assert by_tau[0.0]['coverage'] == pytest.approx(100.0)
    assert by_tau[0.0]['precision'] == pytest.approx(summary['pixel_acc'])
    # the config's per-class thresholds first, then fixed ones descending
    assert summary['thresholds'][0]['threshold'] == 'per-class'
    assert result['config_threshold'] == 'per-class'
    assert set(result['class_thresholds']) == set(summary['per_class'])
    coverages = [t['coverage'] for t in summary['thresholds'][1:]]
    assert coverages == sorted(coverages)
    assert summary['pixels'] > 322 * 360 * 480 * 0.9
