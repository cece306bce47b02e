"""The CamVid cid and dyce configs' deltas through the Runner, on the
synthetic data: they train, log their losses, and DyCE's running class
frequencies are saved and restored on resume."""
import os.path as osp

import torch
from conftest import REPO_ROOT
from helpers import tiny_semi_cfg
from mmengine.config import Config
from mmengine.runner import Runner

from mmseg_viladiff.engine.checkpoint import register_safe_globals
from mmseg_viladiff.utils import adapt_cfg_to_device

HEADS = ('decode_head', 'auxiliary_head')


def _camvid(algo):
    return Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'viladiff',
                 f'{algo}_effnetl0_camvid_1-8.py'))


def _train(cfg):
    cfg.train_cfg.val_interval = 100  # training only: no validation
    adapt_cfg_to_device(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def test_cid_delta_trains_and_logs_its_losses(synthetic_root, tmp_path):
    cfg = tiny_semi_cfg(synthetic_root, str(tmp_path / 'w'), max_iters=2)
    cfg.model.semi_train_cfg.update(
        {k: v
         for k, v in _camvid('cid').model.semi_train_cfg.items()
         if k.startswith('feature_distill')})
    runner = _train(cfg)
    for key in ('train/distill.loss_relation', 'train/distill.loss_style'):
        values = runner.message_hub.get_scalar(key).data[0]
        assert len(values) == 2 and all(v > 0 for v in values), key
    # the features came from the step's own forwards (no extra pass)
    assert runner.model.feature_distiller._warned is False
    assert runner.model.feature_distiller._records == []


def _dyce_cfg(synthetic_root, work, iters):
    cfg = tiny_semi_cfg(synthetic_root, work, max_iters=iters)
    dyce = _camvid('dyce').model
    for head in HEADS:
        cfg.model.segmentor[head].loss_decode = dict(
            dyce.segmentor[head].loss_decode,
            num_classes=cfg.model.segmentor[head].num_classes)
    cfg.model.semi_train_cfg.unsup_class_weight = \
        dyce.semi_train_cfg.unsup_class_weight
    cfg.model.semi_train_cfg.threshold = 0.0  # pseudo labels everywhere
    cfg.default_hooks.checkpoint.interval = 2
    return cfg


def test_dyce_delta_trains_and_resumes_its_frequencies(synthetic_root,
                                                      tmp_path):
    work = str(tmp_path / 'w')
    runner = _train(_dyce_cfg(synthetic_root, work, 2))
    assert 'train/unsup.decode.loss_dyce' in runner.message_hub.log_scalars
    loss = runner.model.student.decode_head.loss_decode
    # a labeled and an unlabeled (weighted) forward per iteration
    assert loss.num_updates.item() == 4
    key = 'student.decode_head.loss_decode.class_frequency'
    register_safe_globals()
    saved = torch.load(osp.join(work, 'iter_2.pth'), weights_only=True)
    assert torch.equal(saved['state_dict'][key], loss.class_frequency)
    cfg = _dyce_cfg(synthetic_root, work, 3)
    cfg.resume = True
    resumed = _train(cfg)
    assert resumed.iter == 3
    # continued from the checkpoint's count, not from a fresh buffer
    assert resumed.model.student.decode_head.loss_decode.num_updates.item() \
        == 6
