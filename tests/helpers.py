"""Tiny, fast configs for tests: the synthetic demo configs on temp data."""
import os.path as osp

from conftest import REPO_ROOT
from mmengine.config import Config

SYNTHETIC_CONFIG = osp.join(REPO_ROOT, 'configs', 'viladiff',
                            'deeplabv3p_effnetl0_synthetic.py')


def tiny_synthetic_cfg(data_root: str,
                       work_dir: str,
                       max_iters: int = 2,
                       pretrained: bool = False) -> Config:
    """The demo config shrunk to ``max_iters`` iterations of batch 2."""
    cfg = Config.fromfile(SYNTHETIC_CONFIG)
    cfg.work_dir = work_dir
    cfg.train_dataloader.dataset.dataset.data_root = data_root
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = data_root
        cfg[key].num_workers = 0
        cfg[key].persistent_workers = False
    cfg.train_dataloader.batch_size = 2
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.train_cfg.max_iters = max_iters
    cfg.train_cfg.val_interval = max_iters
    cfg.param_scheduler[0].end = max_iters
    cfg.default_hooks.checkpoint.interval = max_iters
    cfg.default_hooks.logger.interval = 1
    cfg.model.data_preprocessor.size = (64, 64)
    if not pretrained:
        cfg.model.backbone.init_cfg = None
    cfg.randomness = dict(seed=0)
    return cfg


SEMI_SYNTHETIC_CONFIG = osp.join(REPO_ROOT, 'configs', 'viladiff',
                                 'meanteacher_effnetl0_synthetic.py')


def tiny_semi_cfg(data_root: str,
                  work_dir: str,
                  max_iters: int = 2,
                  num_workers: int = 0) -> Config:
    """The semi-supervised demo config: batches of 2 labeled + 2 unlabeled
    64x64 images, no pretrained weights, ``max_iters`` iterations."""
    cfg = Config.fromfile(SEMI_SYNTHETIC_CONFIG)
    cfg.work_dir = work_dir
    for ds in cfg.train_dataloader.dataset.datasets:
        ds.dataset.data_root = data_root
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = data_root
        cfg[key].num_workers = 0
        cfg[key].persistent_workers = False
    cfg.train_dataloader.batch_size = 4
    cfg.train_dataloader.sampler.batch_size = 4
    cfg.train_dataloader.num_workers = num_workers
    cfg.train_dataloader.persistent_workers = num_workers > 0
    cfg.train_cfg.max_iters = max_iters
    cfg.train_cfg.val_interval = max_iters
    cfg.param_scheduler[0].end = max_iters
    cfg.default_hooks.checkpoint.interval = max_iters
    cfg.default_hooks.logger.interval = 1
    cfg.data_preprocessor.size = (64, 64)
    cfg.model.segmentor.data_preprocessor.size = (64, 64)
    cfg.model.segmentor.backbone.init_cfg = None
    cfg.model.semi_train_cfg.threshold = 0.3
    cfg.randomness = dict(seed=0)
    return cfg
