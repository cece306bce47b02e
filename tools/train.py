"""Train a segmentor with MMSeg's Runner and the mmseg_viladiff components.

Usage:
    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--cfg-options key=value ...] [--launcher {none,pytorch,slurm,mpi}]

On machines without CUDA the config is adapted (SyncBN -> BN, gloo), so the
same command runs single-process or under ``tools/dist_train.sh``.
"""
import argparse
import os

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner, find_latest_checkpoint

from mmseg_viladiff.utils import (ConfigError, adapt_cfg_to_device,
                                  check_data_paths, check_semi_dataloader,
                                  ensure_checkpoint_hooks, exit_on_input_error,
                                  close_distributed, init_cpu_distributed,
                                  load_tool_config)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        help='resume training: without a value from the latest checkpoint '
        'in the work dir, or from the given checkpoint file')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic mixed precision training')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config, e.g. '
        'train_cfg.max_iters=20 model.backbone.depth=50')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if args.amp and not torch.cuda.is_available():
        parser.error('--amp needs a CUDA device: mmengine\'s AmpOptimWrapper '
                     'does not run on CPU')
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def apply_resume(cfg: Config, resume: str) -> None:
    """``--resume``: from the given checkpoint, or (``'auto'``) from the
    latest one in the work dir.

    mmengine resumes from ``load_from`` whenever it is set, so a config
    that initialises from another run's weights (``load_from``, e.g. a
    burn-in) would restart from those weights and iteration instead of
    continuing its own run; here the work dir's latest checkpoint replaces
    ``load_from``, and with no checkpoint there yet the run starts as
    configured (from ``load_from``, not resumed).
    """
    if resume != 'auto':
        cfg.resume, cfg.load_from = True, resume
        return
    latest = find_latest_checkpoint(cfg.work_dir)
    if latest is None:
        print_log(
            f'--resume: no checkpoint in {cfg.work_dir} yet; starting the '
            f'run as configured (load_from={cfg.get("load_from")})',
            'current')
        cfg.resume = False
        return
    cfg.resume, cfg.load_from = True, latest


def build_cfg(args) -> Config:
    """Load the config and apply the command-line options to it."""
    cfg = load_tool_config(args.config, args.cfg_options, args.work_dir,
                           args.launcher)
    if args.amp:
        wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper == 'AmpOptimWrapper':
            print_log('AMP is already enabled in the config', 'current')
        else:
            if wrapper != 'OptimWrapper':
                raise ConfigError('--amp needs optim_wrapper.type '
                                  f'OptimWrapper, got {wrapper}')
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.resume is not None:
        apply_resume(cfg, args.resume)
    adapt_cfg_to_device(cfg, args.launcher)
    ensure_checkpoint_hooks(cfg)
    check_semi_dataloader(cfg)
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = build_cfg(args)
    loaders = ['train_dataloader']
    if cfg.get('val_cfg') and cfg.get('val_dataloader'):
        loaders.append('val_dataloader')
    check_data_paths(cfg, loaders)
    init_cpu_distributed(args.launcher)
    Runner.from_cfg(cfg).train()
    close_distributed()


if __name__ == '__main__':
    exit_on_input_error(main)
