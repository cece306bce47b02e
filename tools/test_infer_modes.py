"""Evaluate one vision-language checkpoint in every inference mode, side by
side: captions + class text ('caption'), class text only ('class'), no text
('vision', what a deployed model runs).

Usage:
    python tools/test_infer_modes.py CONFIG CHECKPOINT [--split val|test]
        [--modes caption class vision] [--work-dir DIR] [--out FILE.json]
        [--cfg-options k=v ...]

Each mode is one test run of the same checkpoint with
``--cfg-options model[.segmentor].neck.infer_mode=MODE`` (the key is
chosen for plain and SemiEncoderDecoder configs alike); ``--split val``
evaluates the val set with the val evaluator instead of the test set.
'caption' needs a caption for every evaluated image (the config's
LoadCaption file). The table (mIoU, aAcc, mAcc per mode) is printed, and
with ``--out`` written as JSON: ``{"split": ..., "checkpoint": ...,
"modes": {MODE: {"mIoU": ..., "aAcc": ..., "mAcc": ...}}}``.
"""
import argparse
import json
import os
import os.path as osp
import time

from mmengine.config import DictAction
from mmengine.runner import Runner

from mmseg_viladiff.models.necks import INFER_MODES
from mmseg_viladiff.utils import (ConfigError, DataError, adapt_cfg_to_device,
                                  check_data_paths, exit_on_input_error,
                                  load_tool_config)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        epilog=__doc__.split('\n', 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config of the VL model')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--split',
        choices=['val', 'test'],
        default='test',
        help='which dataloader to evaluate (default test)')
    parser.add_argument(
        '--modes',
        nargs='+',
        choices=INFER_MODES,
        default=list(INFER_MODES),
        help='inference modes, in this order')
    parser.add_argument(
        '--work-dir',
        help='logs of each mode go to WORK_DIR/MODE (default '
        'work_dirs/infer_modes/<config name>)')
    parser.add_argument('--out', help='JSON file for the table')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config')
    return parser.parse_args(argv)


def infer_mode_key(cfg) -> str:
    """The config key of the VLFusionNeck's ``infer_mode``.

    Raises:
        ConfigError: the model has no VLFusionNeck.
    """
    model = cfg.model
    prefix = 'model'
    if model.get('type') == 'SemiEncoderDecoder':
        model, prefix = model.segmentor, 'model.segmentor'
    neck = model.get('neck') or {}
    if str(neck.get('type', '')).split('.')[-1] != 'VLFusionNeck':
        raise ConfigError('the model has no VLFusionNeck: inference modes '
                          'exist only for vision-language models')
    return f'{prefix}.neck.infer_mode'


def mode_config(args, mode: str, work_dir: str):
    """The config of one mode's test run."""
    cfg = load_tool_config(args.config, args.cfg_options,
                           osp.join(work_dir, mode), 'none')
    cfg.merge_from_dict({infer_mode_key(cfg): mode})
    cfg.load_from = args.checkpoint
    if args.split == 'val':
        cfg.test_dataloader = cfg.val_dataloader
        cfg.test_evaluator = cfg.val_evaluator
    # one Runner per mode in this process: each needs its own name
    cfg.experiment_name = f'infer_{mode}_{time.strftime("%Y%m%d_%H%M%S")}'
    adapt_cfg_to_device(cfg, 'none')
    return cfg


def run_modes(args) -> dict:
    """Test the checkpoint in each mode; returns the JSON table."""
    if not osp.isfile(args.checkpoint):
        raise DataError(f'checkpoint not found: {args.checkpoint}')
    work_dir = args.work_dir or osp.join(
        'work_dirs', 'infer_modes',
        osp.splitext(osp.basename(args.config))[0])
    table = {}
    for mode in args.modes:
        cfg = mode_config(args, mode, work_dir)
        check_data_paths(cfg, ['test_dataloader'])
        metrics = Runner.from_cfg(cfg).test()
        table[mode] = {
            k: float(metrics[k])  # numpy scalars: JSON needs floats
            for k in ('mIoU', 'aAcc', 'mAcc') if k in metrics
        }
    return dict(
        split=args.split,
        config=args.config,
        checkpoint=args.checkpoint,
        modes=table)


def format_table(result: dict) -> str:
    lines = [
        f'{result["split"]} metrics of {result["checkpoint"]}',
        '| mode | mIoU | aAcc | mAcc |', '| --- | --- | --- | --- |'
    ]
    for mode, m in result['modes'].items():
        cells = [
            f'{m[k]:.2f}' if k in m else '-' for k in ('mIoU', 'aAcc', 'mAcc')
        ]
        lines.append(f'| {mode} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    result = run_modes(args)
    print(format_table(result))
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)


if __name__ == '__main__':
    exit_on_input_error(main)
