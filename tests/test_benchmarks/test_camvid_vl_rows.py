"""The CamVid VL rows of issue 18: template and diagnostic oracle captions
on the mean teacher's burn-in protocol, their caption files, and the
inference-mode option."""
import json
import os.path as osp
import subprocess
import sys
from types import SimpleNamespace

import camvid_semi
import pytest
from camvid import ROWS, build_run_config, default_caption_file, running
from camvid.rows import MEANTEACHER_VL, ORACLE_LABEL
from conftest import REPO_ROOT

SCRIPT = osp.join(REPO_ROOT, 'benchmarks', 'camvid_semi.py')
VL_ROWS = ('meanteacher-vl-template', 'meanteacher-vl-oracle',
           'meanteacher-vl-oracle-regions')


@pytest.mark.parametrize('name', VL_ROWS)
def test_vl_rows_share_the_mean_teacher_protocol(name):
    row, base = ROWS[name], ROWS['meanteacher']
    assert row.config == MEANTEACHER_VL and row.captions and row.semi
    assert (row.iters, row.init_from) == (base.iters, base.init_from)
    assert row.options['optim_wrapper.optimizer.lr'] == \
        base.options['optim_wrapper.optimizer.lr']
    oracle = row.captioner.startswith('oracle')
    assert (ORACLE_LABEL in row.label) == oracle
    assert ORACLE_LABEL == 'oracle captions (diagnostic, reads labels)'


def test_oracle_run_config_reads_its_caption_file(tmp_path):
    row = ROWS['meanteacher-vl-oracle']
    captions = default_caption_file(0, 'oracle')
    assert captions == default_caption_file(1, 'oracle')  # seed-free
    assert osp.basename(captions) == 'camvid_oracle.jsonl'
    assert osp.basename(default_caption_file(1)) == \
        'camvid_template_seed1.jsonl'
    cfg = build_run_config(row, 0, row.iters, str(tmp_path), 100, captions)
    text = cfg.pretty_text
    assert text.count(captions) == 6  # 2 train, val, test, test_pipeline
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys.neck.lr_mult == 10
    assert cfg.model.segmentor.vision_task_weight == 1.0
    assert cfg.model.segmentor.neck.align_resolution == 'label'


def test_oracle_captions_are_generated_with_the_oracle_backend(
        tmp_path, monkeypatch):
    calls = []

    def fake_run(cmd, what):
        calls.append(cmd)
        out = cmd[cmd.index('--out') + 1]
        with open(out, 'w') as f:
            f.write(
                json.dumps(
                    dict(
                        image='a.png',
                        caption='x',
                        captioner='oracle-regions',
                        model='ground-truth labels (...)',
                        prompt=None)) + '\n')
        return 1.0

    monkeypatch.setattr(running, 'run_command', fake_run)
    out = tmp_path / 'captions' / 'c.jsonl'
    out.parent.mkdir()
    out.write_text(json.dumps(dict(captioner='template', model='x')) + '\n')
    args = SimpleNamespace(
        caption_file=str(out),
        seed=0,
        captions=False,
        results_dir=str(tmp_path))
    info = running.row_captions(ROWS['meanteacher-vl-oracle-regions'], args)
    assert calls[0][calls[0].index('--captioner') + 1] == 'oracle-regions'
    assert info['captioner'] == 'oracle-regions' and info['diagnostic']
    # a file of template captions is not reused for an oracle row
    assert 'template' not in out.read_text()


def test_oracle_row_needs_the_burn_in_model_before_any_caption(tmp_path):
    caption_file = tmp_path / 'c.jsonl'
    proc = subprocess.run([
        sys.executable, SCRIPT, 'run', 'meanteacher-vl-oracle', '--seed', '7',
        '--results-dir',
        str(tmp_path), '--work-dir',
        str(tmp_path / 'w'), '--caption-file',
        str(caption_file)
    ],
                          capture_output=True,
                          text=True,
                          cwd=REPO_ROOT)
    assert proc.returncode == 1
    assert 'supervised' in proc.stderr and 'Traceback' not in proc.stderr
    assert not caption_file.exists()


def test_infer_modes_only_for_vl_rows():
    args = camvid_semi.parse_args(
        ['run', 'meanteacher-vl-oracle', '--infer-modes'])
    assert args.infer_modes
    with pytest.raises(SystemExit):
        camvid_semi.parse_args(['run', 'meanteacher', '--infer-modes'])


def test_report_shows_the_inference_modes_side_by_side():
    from camvid.reporting import group_results, infer_mode_lines

    def result(seed, caption, vision):
        modes = dict(
            caption=dict(mIoU=caption),
            **{'class': dict(mIoU=caption - 3)},
            vision=dict(mIoU=vision))
        return dict(
            row='meanteacher-vl-oracle',
            seed=seed,
            iters=400,
            infer_modes=dict(val=modes, test=modes))

    lines = infer_mode_lines(
        group_results([result(0, 50.0, 49.0),
                       result(1, 52.0, 50.0)]))
    test = next(ln for ln in lines if '| test |' in ln)
    # caption 51 ± 1, class 48 ± 1, vision 49.5 ± 0.5, gap -1.5 ± 0.5
    assert test == ('| `meanteacher-vl-oracle` | 0, 1 | test | 51.00 ± 1.00 '
                    '| 48.00 ± 1.00 | 49.50 ± 0.50 | -1.50 ± 0.50 |')
    no_modes = dict(result(0, 1, 1), infer_modes=None)
    assert infer_mode_lines(group_results([no_modes])) == []


def test_joint_oracle_row_trains_as_the_supervised_row(tmp_path):
    """supervised-vl-oracle-joint: the supervised row's schedule from
    ImageNet (nothing loaded, nothing frozen), oracle captions, the
    checkpoint chosen on caption inference."""
    row, base = ROWS['supervised-vl-oracle-joint'], ROWS['supervised']
    assert (row.iters, row.init_from, row.semi) == \
        (base.iters, base.init_from, False)
    assert row.captioner == 'oracle' and ORACLE_LABEL in row.label
    cfg = build_run_config(row, 0, 2000, str(tmp_path), 500,
                           default_caption_file(0, 'oracle'))
    assert cfg.model.neck.infer_mode == 'caption'
    assert cfg.load_from is None
    keys = cfg.optim_wrapper.paramwise_cfg.custom_keys
    assert all(v.get('lr_mult', 1) > 0 for v in keys.values())
    supervised = build_run_config(base, 0, 2000, str(tmp_path), 500, None)
    assert cfg.optim_wrapper.optimizer == supervised.optim_wrapper.optimizer


@pytest.mark.parametrize('name', [
    'supervised-vl-oracle-crop', 'supervised-vl-oracle-crop-phrases',
    'supervised-vl-oracle-crop-ground', 'supervised-vl-oracle-crop-prior'
])
def test_crop_oracle_rows_train_neck_and_decode_head_only(tmp_path, name):
    """supervised-vl-oracle-crop(-phrases, -ground, -prior): from the supervised model,
    backbone and auxiliary head frozen, the decode head at its config's
    rate, the neck at 10x; oracle-regions captions for val/test from their
    file."""
    row = ROWS[name]
    assert (row.init_from, row.iters, row.captioner) == \
        ('supervised', ROWS['supervised-vl-oracle'].iters, 'oracle-regions')
    assert ORACLE_LABEL in row.label
    captions = default_caption_file(0, row.captioner)
    cfg = build_run_config(row, 0, row.iters, str(tmp_path), 125, captions)
    keys = cfg.optim_wrapper.paramwise_cfg.custom_keys
    assert keys.backbone.lr_mult == 0 and keys.auxiliary_head.lr_mult == 0
    assert keys.decode_head.lr_mult == 10 and keys.neck.lr_mult == 10
    assert cfg.model.neck.infer_mode == 'caption'
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        assert loader.dataset.pipeline[1].cache_file == captions
    train = cfg.train_dataloader.dataset.dataset.pipeline
    assert 'LoadCaption' not in [t['type'] for t in train]
    assert cfg.model.promptor.get('caption_units', 'tokens') == \
        ('phrases' if name.endswith('phrases') else 'tokens')
    grounded = name.endswith(('ground', 'prior'))
    assert cfg.model.neck.get('ground_weight', 0) == (1.0 if grounded else 0)
    assert cfg.model.neck.get('ground_prior', False) == name.endswith('prior')
