"""The user's commands, run as subprocesses: train, resume, test, dist."""
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
from conftest import REPO_ROOT

TRAIN = osp.join(REPO_ROOT, 'tools', 'train.py')
TEST = osp.join(REPO_ROOT, 'tools', 'test.py')
VOC_CONFIG = osp.join(REPO_ROOT,
                      'configs/viladiff/deeplabv3p_r101_voc_1-16.py')
SYNTH_CONFIG = osp.join(REPO_ROOT,
                        'configs/baselines/deeplabv3p_effnetl0_synthetic.py')
SEMI_CONFIG = osp.join(REPO_ROOT,
                       'configs/viladiff/meanteacher_effnetl0_synthetic.py')
CAMVID_CONFIG = osp.join(
    REPO_ROOT, 'configs/baselines/deeplabv3p_effnetl0_camvid_1-8.py')


def _run(args, cwd, timeout=900, env=None):
    return subprocess.run(
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, **(env or {})))


def test_voc_config_without_data_fails_with_one_clear_message(tmp_path):
    proc = _run([sys.executable, TRAIN, VOC_CONFIG], cwd=tmp_path)
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr
    assert "PascalVOCDataset" in proc.stderr
    assert "'data/VOCdevkit/VOC2012'" in proc.stderr
    assert 'voc_aug.py' in proc.stderr and 'make_splits.py' in proc.stderr
    assert 'train_dataloader.dataset.datasets.0.dataset.datasets.0.data_root' \
        in proc.stderr


def _synthetic_options(root):
    return [
        '--cfg-options',
        f'train_dataloader.dataset.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'default_hooks.logger.interval=1',
    ]


@pytest.mark.slow
def test_train_resume_test_on_synthetic(synthetic_root, tmp_path):
    work = str(tmp_path / 'work')
    opts = _synthetic_options(synthetic_root)
    iters = [
        'train_cfg.max_iters=4', 'train_cfg.val_interval=4',
        'default_hooks.checkpoint.interval=2'
    ]
    proc = _run(
        [sys.executable, TRAIN, SYNTH_CONFIG, '--work-dir', work] + opts +
        iters,
        cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert osp.isfile(osp.join(work, 'iter_4.pth'))
    # resume from the latest checkpoint and go on to 6 iterations
    more = [
        'train_cfg.max_iters=6', 'train_cfg.val_interval=6',
        'default_hooks.checkpoint.interval=2'
    ]
    proc = _run(
        [sys.executable, TRAIN, SYNTH_CONFIG, '--work-dir', work, '--resume'] +
        opts + more,
        cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 0, iter: 4' in log
    assert 'Iter(train) [5/6]' in log and 'Iter(train) [1/6]' not in log
    # evaluate: per-class IoU table, predictions painted
    show = str(tmp_path / 'show')
    proc = _run(
        [
            sys.executable, TEST, SYNTH_CONFIG,
            osp.join(work, 'iter_6.pth'), '--work-dir', work, '--show-dir',
            show
        ] + opts[:1] + opts[2:],
        cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    for name in ('background', 'disc', 'square', 'triangle'):
        assert re.search(rf'\|\s+{name}\s+\|\s+[\d.]+\s+\|', log), name
    assert 'mIoU' in log
    pngs = [f for _, _, fs in os.walk(show) for f in fs if f.endswith('.png')]
    assert len(pngs) == 4


@pytest.mark.slow
def test_dist_train_two_cpu_processes(synthetic_root, tmp_path):
    work = str(tmp_path / 'dist')
    proc = _run(
        [
            'bash',
            osp.join(REPO_ROOT, 'tools', 'dist_train.sh'), SYNTH_CONFIG, '2',
            '--work-dir', work
        ] + _synthetic_options(synthetic_root) +
        ['train_cfg.max_iters=2', 'train_cfg.val_interval=2'],
        cwd=tmp_path,
        env=dict(PYTHON=sys.executable, PORT='29533'))
    # the log (stdout) says how far the ranks got before a failure
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert 'Distributed training: True' in log and 'GPU number: 2' in log
    assert "backend='gloo'" in log
    # the 4 val images are split over the 2 processes
    assert 'Iter(val) [2/2]' in log
    assert osp.isfile(osp.join(work, 'iter_2.pth'))


@pytest.mark.slow
def test_camvid_config_trains_on_real_data(camvid_root, tmp_path):
    os.makedirs(tmp_path / 'data')
    os.symlink(camvid_root, tmp_path / 'data' / 'camvid')
    work = str(tmp_path / 'camvid')
    proc = _run([
        sys.executable, TRAIN, CAMVID_CONFIG, '--work-dir', work,
        '--cfg-options', 'train_cfg.max_iters=20', 'train_cfg.val_interval=20',
        'default_hooks.checkpoint.interval=20'
    ],
                cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert osp.isfile(osp.join(work, 'iter_20.pth'))
    assert re.search(r'\|\s+car\s+\|\s+[\d.]+', proc.stdout + proc.stderr)


def _semi_options(root):
    opts = ['--cfg-options']
    for i in (0, 1):
        opts.append(f'train_dataloader.dataset.datasets.{i}.dataset.'
                    f'data_root={root}')
    return opts + [
        f'val_dataloader.dataset.data_root={root}',
        'train_dataloader.batch_size=4',
        'train_dataloader.sampler.batch_size=4',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'default_hooks.logger.interval=1',
    ]


# each case is a train.py process (~10-15 s on one core): two in the fast
# suite (a model key, a data file), the rest end-to-end with -m slow
@pytest.mark.parametrize('option, message', [
    ('model.semi_train_cfg.threshold=1.5',
     'semi_train_cfg.threshold must be in [0, 1], got 1.5'),
    pytest.param(
        'train_dataloader.sampler.source_ratio=[1,0]',
        'sampler.source_ratio must be two positive integers',
        marks=pytest.mark.slow),
    pytest.param(
        'train_dataloader.dataset.datasets.1.split_file=splits/none.txt',
        'partition file not found: ',
        marks=pytest.mark.slow),
    ('train_dataloader.dataset.datasets.0.split_file=splits/bogus.txt',
     "bogus.txt:2: image 'train_9999' is not in the dataset"),
    pytest.param(
        'train_dataloader.dataset.datasets.1.split_file=splits/empty.txt',
        'empty.txt lists no images',
        marks=pytest.mark.slow),
    pytest.param(
        'train_dataloader.batch_size=6',
        'train_dataloader.batch_size (6) must equal '
        'train_dataloader.sampler.batch_size (4)',
        marks=pytest.mark.slow),
])
def test_semi_bad_input_stops_at_start_with_the_key(synthetic_root, tmp_path,
                                                    option, message):
    with open(osp.join(synthetic_root, 'splits', 'bogus.txt'), 'w') as f:
        f.write('train_0001\ntrain_9999\n')
    with open(osp.join(synthetic_root, 'splits', 'empty.txt'), 'w') as f:
        f.write('# no images\n')
    proc = _run(
        [
            sys.executable, TRAIN, SEMI_CONFIG, '--work-dir',
            str(tmp_path / 'w')
        ] + _semi_options(synthetic_root) + [option],
        cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert message in proc.stderr
    assert 'Traceback' not in proc.stderr


# A test-only plugin: each process records the images of every batch it gets.
BATCH_RECORDER = '''
import json, os
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class BatchRecorderHook(Hook):

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        names = {
            branch: sorted(os.path.basename(s.img_path)
                           for s in samples if s is not None)
            for branch, samples in data_batch['data_samples'].items()}
        path = os.path.join(os.environ['RECORD_DIR'], f'rank{get_rank()}')
        with open(path, 'a') as f:
            f.write(json.dumps(dict(iter=runner.iter, **names)) + '\\n')
'''


def _recorded_dist_run(base_config, options, tmp_path):
    """Run tools/dist_train.sh with 2 CPU processes on ``base_config`` plus
    the batch recorder; return the process and each rank's batches."""
    (tmp_path / 'batch_recorder.py').write_text(BATCH_RECORDER)
    config = tmp_path / 'recorded.py'
    config.write_text(
        f'_base_ = {base_config!r}\n'
        "custom_imports = dict(imports=['mmseg_viladiff', 'batch_recorder'])\n"
        "custom_hooks = _base_.custom_hooks + "
        "[dict(type='BatchRecorderHook')]\n")
    record = tmp_path / 'record'
    record.mkdir()
    proc = _run(
        [
            'bash',
            osp.join(REPO_ROOT, 'tools', 'dist_train.sh'),
            str(config), '2', '--work-dir',
            str(tmp_path / 'work')
        ] + options,
        cwd=tmp_path,
        env=dict(
            PYTHON=sys.executable,
            PORT='29534',
            PYTHONPATH=str(tmp_path),
            PYTHONFAULTHANDLER='1',
            RECORD_DIR=str(record)))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    ranks = [[json.loads(line) for line in open(record / f'rank{r}')]
             for r in (0, 1)]
    return proc, ranks


def _assert_disjoint_batches(ranks, iters, per_branch):
    assert len(ranks[0]) == len(ranks[1]) == iters
    for a, b in zip(*ranks):
        assert len(a['sup']) == len(a['unsup_weak']) == per_branch
        assert not set(a['sup']) & set(b['sup'])
        assert not set(a['unsup_weak']) & set(b['unsup_weak'])
        assert a['unsup_weak'] == a['unsup_strong']


@pytest.mark.slow
def test_dist_semi_train_two_cpu_processes(synthetic_root, tmp_path):
    """2 CPU processes: in every iteration the processes train on different
    labeled and different unlabeled images, and the run finishes."""
    options = _semi_options(synthetic_root) + [
        'train_cfg.max_iters=3', 'train_cfg.val_interval=3'
    ]
    proc, ranks = _recorded_dist_run(SEMI_CONFIG, options, tmp_path)
    log = proc.stdout + proc.stderr
    assert 'GPU number: 2' in log and 'Iter(train) [3/3]' in log
    assert re.search(r'teacher/mIoU: [\d.]+ .*student/mIoU: [\d.]+', log)
    assert osp.isfile(osp.join(tmp_path, 'work', 'iter_3.pth'))
    _assert_disjoint_batches(ranks, iters=3, per_branch=2)


@pytest.mark.slow
def test_dist_camvid_mean_teacher_two_cpu_processes(camvid_root, tmp_path):
    """The CamVid 1/8 mean-teacher config on 2 CPU processes (real data):
    8 labeled + 8 unlabeled crops per process and iteration, all distinct
    (2 iterations: 32 of the 45 labeled images, within one epoch)."""
    os.makedirs(tmp_path / 'data')
    os.symlink(camvid_root, tmp_path / 'data' / 'camvid')
    options = [
        '--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=100',
        'default_hooks.logger.interval=1'
    ]
    proc, ranks = _recorded_dist_run(
        osp.join(REPO_ROOT,
                 'configs/viladiff/meanteacher_effnetl0_camvid_1-8.py'),
        options, tmp_path)
    assert 'Iter(train) [2/2]' in proc.stdout + proc.stderr
    _assert_disjoint_batches(ranks, iters=2, per_branch=8)


def test_visualize_refinement_tool(synthetic_root, tmp_path):
    import torch
    from mmengine.config import Config
    from mmseg.registry import MODELS
    config = tmp_path / 'refine.py'
    config.write_text(
        f'_base_ = {SEMI_CONFIG!r}\n'
        "model = dict(segmentor=dict(type='CascadeEncoderDecoder', "
        "num_stages=2, decode_head=[_base_.model.segmentor.decode_head, "
        "dict(type='EdgeAwareMixDiffusionHead', in_channels=24, in_index=0,"
        " channels=8, num_classes=4, num_inference_steps=2)]))\n")
    cfg = Config.fromfile(str(config))
    cfg.model.segmentor.backbone.init_cfg = None
    for head in cfg.model.segmentor.decode_head:
        head.norm_cfg = dict(type='BN')
    cfg.model.segmentor.backbone.norm_cfg = dict(type='BN', eps=1e-3)
    cfg.model.segmentor.auxiliary_head.norm_cfg = dict(type='BN')
    ckpt = tmp_path / 'random.pth'
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict()}, ckpt)
    out = tmp_path / 'vis'
    proc = _run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'visualize_refinement.py'),
        str(config),
        str(ckpt), '--num', '2', '--split', 'val', '--out',
        str(out), '--cfg-options',
        f'val_dataloader.dataset.data_root={synthetic_root}'
    ],
                cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    pngs = sorted(os.listdir(out))
    assert pngs == ['val_0000.png', 'val_0001.png']
    from PIL import Image
    panel = Image.open(out / pngs[0])
    assert panel.size == (5 * 64, 64)  # five 64x64 panels side by side
    assert 'accuracy in the edge band' in proc.stdout
