"""Semi-supervised training through the Runner: val loop, resume."""
import os.path as osp

import numpy as np
import pytest
import torch
from helpers import VILADIFF_SYNTHETIC_CONFIG, tiny_semi_cfg
from mmengine.config import Config
from mmengine.runner import Runner

from mmseg_viladiff.utils import adapt_cfg_to_device


def _runner(cfg):
    adapt_cfg_to_device(cfg)
    return Runner.from_cfg(cfg)


def test_semi_training_validates_teacher_and_student(synthetic_root, tmp_path):
    cfg = tiny_semi_cfg(synthetic_root, str(tmp_path / 'w'), max_iters=2)
    cfg.default_hooks.checkpoint.save_best = 'teacher/mIoU'
    runner = _runner(cfg)
    runner.train()
    metrics = runner.val_loop.run()
    assert {'teacher/mIoU', 'student/mIoU', 'teacher/aAcc',
            'student/aAcc'} <= set(metrics)
    assert runner.model.semi_test_cfg['predict_on'] == 'teacher'
    assert osp.isfile(osp.join(cfg.work_dir, 'best_teacher_mIoU_iter_2.pth'))
    hub = runner.message_hub
    for key in ('train/unsup_weight', 'train/ema_momentum',
                'train/pseudo_conf_ratio', 'train/unsup.decode.loss_ce'):
        assert key in hub.log_scalars, key


def _final_state(cfg):
    runner = _runner(cfg)
    runner.train()
    return runner, {k: v.clone() for k, v in runner.model.state_dict().items()}


@pytest.mark.slow
def test_resume_continues_exactly(synthetic_root, tmp_path):
    """2N straight == N, stop, --resume, N more (N = 2): teacher, student,
    optimiser. Exact because RandomStateHook restores the main-process
    random state (dropout, CutMix) and mmengine replays the worker seeds."""

    def cfg(work, iters):
        c = tiny_semi_cfg(synthetic_root, work, max_iters=iters, num_workers=1)
        c.param_scheduler[0].end = 4  # the schedule of the full run
        c.train_cfg.val_interval = 100
        c.default_hooks.checkpoint.interval = 2
        return c

    _, straight = _final_state(cfg(str(tmp_path / 'a'), 4))
    first, _ = _final_state(cfg(str(tmp_path / 'b'), 2))
    resumed_cfg = cfg(str(tmp_path / 'b'), 4)
    resumed_cfg.resume = True
    resumed, state = _final_state(resumed_cfg)
    assert resumed.iter == 4
    assert straight.keys() == state.keys()
    for key in straight:
        assert torch.equal(straight[key], state[key]), key
    assert any(k.startswith('teacher.') for k in state)


@pytest.mark.slow
def test_full_viladiff_trains_validates_and_resumes(synthetic_root, tmp_path):
    """The full method (mean teacher + VL path + diffusion head) on the
    synthetic data: caption and text losses logged, checkpoint reloads."""
    work = str(tmp_path / 'w')
    cfg = tiny_semi_cfg(
        synthetic_root, work, max_iters=2, config=VILADIFF_SYNTHETIC_CONFIG)
    cfg.default_hooks.checkpoint.save_best = 'teacher/mIoU'
    runner = _runner(cfg)
    runner.train()
    hub = runner.message_hub
    for key in ('train/sup.loss_vl_align', 'train/sup.loss_vl_distill',
                'train/unsup.loss_vl_align', 'train/sup.decode_1.loss_ce'):
        assert key in hub.log_scalars, key
    metrics = runner.val_loop.run()
    assert 0 <= metrics['teacher/mIoU'] <= 100
    # text embeddings were cached on disk once, under the work dir
    assert osp.isdir(osp.join(work, 'text_cache'))
    # resume from the checkpoint: the VL weights load back
    cfg2 = tiny_semi_cfg(
        synthetic_root, work, max_iters=3, config=VILADIFF_SYNTHETIC_CONFIG)
    cfg2.resume = True
    runner2 = _runner(cfg2)
    runner2.train()
    assert runner2.iter == 3


UNIMATCH_CAMVID_CONFIG = osp.join(
    osp.dirname(VILADIFF_SYNTHETIC_CONFIG), 'unimatch_effnetl0_camvid_1-8.py')
UNIMATCH_BASE = osp.join(
    osp.dirname(VILADIFF_SYNTHETIC_CONFIG), '..', '_base_', 'unimatch.py')


def _assert_unimatch_trained(runner):
    assert runner.iter == 2
    hub = runner.message_hub
    for key in ('train/sup.decode.loss_ce', 'train/unsup.decode.loss_ce',
                'train/unsup2.decode.loss_ce', 'train/fp.decode.loss_ce'):
        assert key in hub.log_scalars, key
        assert np.isfinite(hub.get_scalar(key).current()), key


def test_unimatch_fragment_trains_a_mean_teacher_config(
        synthetic_root, tmp_path):
    """configs/_base_/unimatch.py on the synthetic mean teacher: two
    iterations with both strong views and the fp branch."""
    cfg = tiny_semi_cfg(synthetic_root, str(tmp_path / 'w'), max_iters=2)
    unimatch = Config.fromfile(UNIMATCH_BASE)
    cfg.model.semi_train_cfg.update(unimatch.unimatch_semi_train_cfg)
    unlabeled = cfg.train_dataloader.dataset.datasets[1].dataset
    unlabeled.pipeline[-1].views.update(unimatch.unimatch_views)
    cfg.train_cfg.val_interval = 100  # training only
    runner = _runner(cfg)
    runner.train()
    _assert_unimatch_trained(runner)


@pytest.mark.slow
def test_unimatch_camvid_config_trains(camvid_root, tmp_path):
    """The CamVid UniMatch config itself, two iterations of 2 labeled + 2
    unlabeled 192x192 crops on the real data (skipped without it; about
    90 s of CPU, hence slow)."""
    cfg = tiny_semi_cfg(
        camvid_root, str(tmp_path / 'w'), max_iters=2,
        config=UNIMATCH_CAMVID_CONFIG)
    cfg.model.semi_train_cfg.threshold = 0.95  # per-class ceiling (>= floor)
    # the config's padding: crops of small images are under 192 pixels
    cfg.data_preprocessor.size = cfg.crop_size
    cfg.model.segmentor.data_preprocessor.size = cfg.crop_size
    cfg.train_cfg.val_interval = 100  # training only
    runner = _runner(cfg)
    runner.train()
    _assert_unimatch_trained(runner)
