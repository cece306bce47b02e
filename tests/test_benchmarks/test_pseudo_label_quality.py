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
    from camvid.coverage import (CoverageHistogram, matched_coverage,
                                 threshold_summary)
    counts = module.Counts(2, [0.95, 0.7, 0.0])
    gt = torch.tensor([[[0, 1, 1, 0]]])
    confidence = torch.tensor([[[0.99, 0.8, 0.5, 0.96]]])
    labels = torch.tensor([[[0, 1, 0, 1]]])
    counts.add(confidence, labels, gt)
    summary = counts.summary(['road', 'car'])
    hists = {}
    for key in (module.SOURCES if refined else ['first_head']):
        hists[key] = CoverageHistogram(2)
        hists[key].add(confidence, labels, gt, confidence >= 0.95)
    return dict(
        first_select=summary if refined else None,
        edge_band={
            k: threshold_summary(h, ['road', 'car'])
            for k, h in hists.items()
        },
        matched_coverage=matched_coverage(hists, 'first_head',
                                          ['road', 'car']),
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
    assert [ln.split('|')[4].strip() for ln in overall] == [
        'teacher', 'first head', 'refined (diffusion)',
        'refined class, first-head confidence'
    ]
    # edge band and matched coverage sections; the coverage at tau (2 of 4
    # pixels, 50 %) is marked, with its precision (1 of 2 right) and delta
    assert '## Edge band (3 px around true edges)' in text
    assert '| `viladiff` | 0 | all | 50.0 (tau) | 50.0 | 50.0 | 50.0 | ' \
        '0.0 |' in text
    assert '| car | edge band |' in text
    # tau 0.95: pixels 0 (road, right) and 3 (car, wrong) covered
    assert '| `meanteacher` | 0 | teacher | 0.95 (config) | 50.0 | 50.0 | ' \
        '25.0 |' in text
    assert '## Per class at tau 0.7' in text
    # the two per-threshold class tables come first
    car_095, car_07 = [ln for ln in lines if ln.startswith('| car |')][:2]
    # one column per source: teacher, and the viladiff row's three
    assert car_095.count('0.0 / 0.0') == 4  # no car pixel right at 0.95
    assert car_07.count('50.0 / 50.0') == 4  # pixel 1 right, 3 wrong


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


def test_score_batch_counts_every_source_of_a_cascade():
    """The benchmark's per-batch path on a tiny cascade mean teacher: the
    first head's counts are its own argmax and softmax; the first-head
    selection keeps the first head's coverage at every threshold."""
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample
    from mmengine.structures import PixelData
    module = load_script()
    norm = dict(type='BN')
    seg = dict(
        type='CascadeEncoderDecoder',
        num_stages=2,
        data_preprocessor=dict(
            type='SegDataPreProcessor', mean=[0.] * 3, std=[1.] * 3),
        backbone=dict(type='EfficientNetLite0', norm_cfg=norm),
        decode_head=[
            dict(type='FCNHead', in_channels=320, in_index=3, channels=8,
                 num_convs=1, concat_input=False, num_classes=3,
                 norm_cfg=norm),
            dict(type='EdgeAwareMixDiffusionHead', in_channels=24,
                 in_index=0, channels=8, num_classes=3, norm_cfg=norm,
                 num_timesteps=10, flip_source='prediction',
                 num_inference_steps=2)
        ])
    torch.manual_seed(0)
    model = MODELS.build(
        dict(type='SemiEncoderDecoder', segmentor=seg,
             semi_train_cfg=dict(refine_pseudo_labels=True))).eval()
    x = torch.rand(1, 3, 32, 32)
    gt = torch.randint(0, 3, (1, 32, 32))
    gt[0, :2] = 255
    sample = SegDataSample(metainfo=dict(img_shape=(32, 32)))
    sample.gt_sem_seg = PixelData(data=gt)
    taus = [0.5, 0.4, 0.0]
    counts = {k: module.Counts(3, taus) for k in module.SOURCES}
    hists = {k: module.CoverageHistogram(3) for k in module.SOURCES}
    with torch.no_grad():
        module.score_batch(model, x, [sample], 0.4, counts, hists)
        first, refined = model.teacher_first_and_refined(x, [sample])
    conf, labels = first.softmax(1).max(1)
    valid = gt != 255
    s = counts['first_head'].summary(['a', 'b', 'c'])
    assert s['pixels'] == int(valid.sum())
    assert s['pixel_acc'] == pytest.approx(
        100 * float((labels == gt)[valid].float().mean()))
    cov = {
        k: [t['coverage'] for t in counts[k].summary('abc')['thresholds']]
        for k in counts
    }
    assert cov['first_select'] == cov['first_head']
    assert int(hists['first_head'].covered[0].sum()) == int(
        (conf >= 0.4)[valid].sum())
    assert not torch.equal(refined.argmax(1), labels)  # the sources differ
