"""benchmarks/presence_bound.py: the oracle class-presence masks and the
IoU they are scored with."""
import numpy as np
import presence_bound
import pytest
import torch
from camvid.scoring import confusion, iou, save_record

IGNORE = presence_bound.IGNORE_INDEX


def test_confusion_and_iou_skip_ignored_pixels():
    gt = np.array([[0, 0, 1, IGNORE]])
    pred = np.array([[0, 1, 1, 0]])
    hist = confusion(pred, gt, 3)
    assert hist.sum() == 3  # the ignored pixel is not counted
    assert hist[0, 0] == 1 and hist[0, 1] == 1 and hist[1, 1] == 1
    per_class = iou(hist)
    assert per_class[0] == pytest.approx(50.0)
    assert per_class[1] == pytest.approx(50.0)
    assert np.isnan(per_class[2])  # neither present nor predicted


def test_save_record_writes_the_diagnostics_json(tmp_path, capsys):
    import json
    record = dict(
        benchmark='presence_bound', row='supervised', seed=1, split='val',
        seconds=3.2, scores=[dict(mIoU=50.0)])
    out = save_record(str(tmp_path), record, '| table |')
    assert out == str(
        tmp_path / 'presence_bound' / 'supervised_seed1_val.json')
    with open(out) as f:
        assert json.load(f) == record
    printed = capsys.readouterr().out
    assert printed.startswith('| table |\n') and out in printed


def test_presence_mask_rules_out_absent_classes_only():
    # class 2 wins everywhere, but the image holds classes 0 and 1 only
    logits = torch.zeros(3, 2, 4)
    logits[2] = 5.0
    logits[1, :, 2:] = 1.0
    gt = torch.tensor([[0, 0, 1, 1], [0, 0, 1, IGNORE]])
    assert (presence_bound.presence_masked(logits, gt) == np.array(
        [[0, 0, 1, 1], [0, 0, 1, 1]])).all()
    # an image without a valid label keeps the plain argmax
    none = torch.full((2, 4), IGNORE)
    assert (presence_bound.presence_masked(logits, none) == 2).all()


def test_region_mask_uses_each_cells_classes():
    # 3x3 grid on a 3x3 map: every pixel is its own cell
    logits = torch.zeros(3, 3, 3)
    logits[0] = 1.0  # class 0 wins unless ruled out
    gt = torch.tensor([[0, 1, 2], [2, 1, 0], [IGNORE, 0, 1]])
    pred = presence_bound.presence_masked(logits, gt, grid=3)
    expected = gt.numpy().copy()
    expected[2, 0] = 0  # no label in that cell: the plain argmax
    assert (pred == expected).all()
    # image-level presence keeps class 0 (present somewhere) everywhere
    assert (presence_bound.presence_masked(logits, gt) == 0).all()


def test_unrun_row_is_a_clear_error(tmp_path):
    import subprocess
    import sys
    proc = subprocess.run([
        sys.executable, presence_bound.__file__, 'supervised', '--work-dir',
        str(tmp_path / 'none'), '--results-dir',
        str(tmp_path)
    ],
                          capture_output=True,
                          text=True)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    assert 'camvid_semi.py run supervised --seed 0' in proc.stderr
