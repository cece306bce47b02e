"""Evaluate a checkpoint: prints mIoU and the per-class IoU table.

Usage:
    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR]
        [--show-dir DIR] [--show] [--cfg-options ...] [--launcher ...]
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmseg_viladiff.utils import (ConfigError, DataError, adapt_cfg_to_device,
                                  check_data_paths, exit_on_input_error,
                                  close_distributed, init_cpu_distributed,
                                  load_tool_config)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a '
                                     'segmentor')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics')
    parser.add_argument(
        '--out',
        help='directory where predicted label maps are saved as PNGs '
        '(for offline evaluation or submission)')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images (ground truth | prediction) '
        'are saved')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--tta', action='store_true', help='test time aug')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_visualization(cfg, args) -> None:
    """Switch the SegVisualizationHook on for --show / --show-dir."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise ValueError('--show/--show-dir need default_hooks.visualization '
                         '(a SegVisualizationHook) in the config')
    if hook.get('type') in ('SegVisualizationHook',
                            'mmseg.SegVisualizationHook'):
        # same hook, but it does not build the training data to paint
        hook['type'] = 'PredictionVisualizationHook'
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        cfg.visualizer['save_dir'] = args.show_dir
        hook['interval'] = 1  # paint every test image


def build_cfg(args) -> Config:
    cfg = load_tool_config(args.config, args.cfg_options, args.work_dir,
                           args.launcher)
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    if args.tta:
        if 'tta_pipeline' not in cfg or 'tta_model' not in cfg:
            raise ConfigError(f'--tta: {args.config} defines no tta_pipeline'
                              ' / tta_model')
        if cfg.model.get('type') == 'SemiEncoderDecoder':
            raise ConfigError('--tta is not supported for SemiEncoderDecoder'
                              '; test without --tta')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
    adapt_cfg_to_device(cfg, args.launcher)
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = build_cfg(args)
    if not osp.isfile(args.checkpoint):
        raise DataError(f'checkpoint not found: {args.checkpoint}')
    check_data_paths(cfg, ['test_dataloader'])
    init_cpu_distributed(args.launcher)
    Runner.from_cfg(cfg).test()
    close_distributed()


if __name__ == '__main__':
    exit_on_input_error(main)
