"""Caption every image of a dataset (labeled and unlabeled) into a JSONL cache.

Usage:
    python tools/generate_captions.py CONFIG_OR_DATA --out captions.jsonl
        [--model ID_OR_PATH [--prompt TEXT] [--max-new-tokens 40]
         [--num-beams 1] [--dtype float16]]
        [--captioner template --checkpoint CKPT [--seg-config CONFIG]
         [--min-area 0.01]]
        [--captioner oracle|oracle-regions [--min-area 0]]  (DIAGNOSTIC)
        [--classes a,b,c] [--data-root DIR] [--cfg-options k=v ...]
        [--batch-size 8] [--device cuda:0] [--limit N] [--no-progress]
        [--shard i/n | --merge]

CONFIG_OR_DATA is an MMSeg config (every image of its train/val/test
datasets, through ConcatDataset/PartitionDataset wrappers; keys relative to
each dataset's data_root; class names from the dataset) or a folder (every
image under it; keys relative to it; class names from --classes).

Backends (each record says which wrote it):
  hf        a transformers image-to-text model (BLIP, BLIP-2, InstructBLIP,
            LLaVA, Florence-2, ...), a local save_pretrained folder or a
            model id in the Hugging Face cache. The prompt defaults to
            "Describe this image in one sentence, naming which of these
            appear: <classes>." (a class named background left out;
            BLIP-style models continue the prompt as a text prefix, e.g.
            --prompt "a photo of"; chat models get it as the user turn).
  template  for machines without a VLM: a segmentation checkpoint predicts
            the classes each image shows ("a photo showing road, sky and
            car."); --seg-config defaults to CONFIG_OR_DATA.
  oracle, oracle-regions
            DIAGNOSTIC ONLY, never a result: captions written from the
            ground-truth label maps of every image of CONFIG (unlabeled
            and test images included), to measure what informative text
            could give (an upper bound). 'oracle': classes present with
            size and position words; 'oracle-regions': classes per cell of
            a 3x3 grid and counts of small objects. Needs a config.

Resuming: images already in the output are skipped and new captions are
appended batch by batch (flushed and fsynced), so rerunning an interrupted
command finishes it, losing at most the batch in flight.

Sharding: --shard i/n captions images [i::n] of the key-sorted list into
OUT.shard-i-of-n.jsonl (skipping images already in OUT); once all shards
are done, --merge merges them into OUT (sorted, deduplicated, checked
complete) and removes the shard files. Under torchrun (RANK and WORLD_SIZE
set), each rank takes its shard and device cuda:LOCAL_RANK automatically,
and rank 0, after its own shard, waits (up to --merge-timeout seconds) until
every shard file holds all its images, then merges:
    torchrun --nproc_per_node 8 tools/generate_captions.py CONFIG \\
        --out captions.jsonl --model Salesforce/blip-image-captioning-large

--limit N captions only the first N images of the sorted list (smoke tests);
shard runs and --merge need the same CONFIG_OR_DATA, --data-root and --limit.

Training reads the captions back with the LoadCaption transform:
    dict(type='LoadCaption', cache_file='captions.jsonl', data_root=...)
"""
import argparse
import os
import os.path as osp
from typing import Optional, Tuple

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log

from mmseg_viladiff.captioning import (ORACLE_VARIANTS, HFCaptioner,
                                       OracleCaptioner, TemplateCaptioner,
                                       caption_images, default_prompt,
                                       images_from_config, images_from_folder,
                                       merge_shards, parse_shard, shard_file,
                                       shard_items, wait_for_shards)
from mmseg_viladiff.utils import ConfigError, DataError, exit_on_input_error


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        epilog=__doc__.split('\n', 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'source', metavar='CONFIG_OR_DATA', help='config file or folder')
    parser.add_argument('--out', required=True, help='JSONL caption file')
    parser.add_argument(
        '--captioner',
        '--backend',
        dest='captioner',
        choices=['hf', 'template', *ORACLE_VARIANTS],
        help='backend; defaults to template if --checkpoint is given, '
        'else hf (oracle variants: a diagnostic that reads labels)')
    parser.add_argument('--model', help='hf: model id or local folder')
    parser.add_argument(
        '--prompt',
        help='hf: the prompt (default: names the classes; "" for none)')
    parser.add_argument(
        '--max-new-tokens',
        type=int,
        default=40,
        help='hf: caption length limit in tokens')
    parser.add_argument(
        '--num-beams', type=int, default=1, help='hf: beam width (1: greedy)')
    parser.add_argument('--dtype', help='hf: model dtype, e.g. float16')
    parser.add_argument(
        '--trust-remote-code',
        action='store_true',
        help='hf: allow model code shipped with the weights')
    parser.add_argument('--checkpoint', help='template: segmentor weights')
    parser.add_argument(
        '--seg-config',
        help='template: segmentor config (default: CONFIG_OR_DATA)')
    parser.add_argument(
        '--min-area',
        type=float,
        help='template, oracle: smallest image share of a named class '
        '(default 0.01 template, 0 oracle)')
    parser.add_argument(
        '--classes',
        help='comma-separated class names (default: the dataset\'s)')
    parser.add_argument(
        '--data-root', help='replaces every dataset\'s data_root')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of CONFIG_OR_DATA, as in tools/train.py')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=8,
        help='images per forward pass and per synced write')
    parser.add_argument(
        '--device', help='default: cuda[:LOCAL_RANK] if available, else cpu')
    parser.add_argument(
        '--limit',
        type=int,
        help='first N images of the sorted list (smoke tests)')
    parser.add_argument('--shard', help='i/n: caption only shard i of n')
    parser.add_argument(
        '--merge',
        action='store_true',
        help='merge OUT.shard-*-of-n.jsonl into OUT and exit')
    parser.add_argument(
        '--merge-timeout',
        type=float,
        default=24 * 3600,
        help='torchrun: seconds rank 0 waits for the other shards')
    parser.add_argument(
        '--no-progress', action='store_true', help='no progress bar')
    return parser.parse_args(argv)


def _is_config(source: str) -> bool:
    return osp.isfile(source) and source.endswith('.py')


def collect_images(args):
    """The ImageSet of CONFIG_OR_DATA, cut to --limit."""
    classes = [c.strip()
               for c in args.classes.split(',')] if args.classes else None
    oracle = args.captioner in ORACLE_VARIANTS
    if osp.isdir(args.source):
        if oracle:
            raise ConfigError(f'--captioner {args.captioner} reads label '
                              'maps: give a config, not a folder')
        images = images_from_folder(args.source, classes)
    elif _is_config(args.source):
        cfg = Config.fromfile(args.source)  # imports mmseg_viladiff
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        images = images_from_config(cfg, args.data_root, with_labels=oracle)
        if classes:
            images.classes = tuple(classes)
    else:
        raise DataError(f'{args.source} is neither a config file (.py) nor '
                        'a folder of images')
    if args.limit is not None:
        if args.limit < 1:
            raise ConfigError(f'--limit must be >= 1, got {args.limit}')
        images.items = images.items[:args.limit]
    return images


def _distributed() -> Optional[Tuple[int, int]]:
    """(rank, world size) under torchrun with more than one process."""
    world = int(os.environ.get('WORLD_SIZE', '1'))
    if world > 1 and 'RANK' in os.environ:
        return int(os.environ['RANK']), world
    return None


def _device(args) -> str:
    if args.device:
        return args.device
    if torch.cuda.is_available():
        return f'cuda:{os.environ.get("LOCAL_RANK", 0)}'
    return 'cpu'


def build_captioner(args, classes):
    """The backend the arguments ask for."""
    kind = args.captioner or ('template' if args.checkpoint else 'hf')
    if kind in ORACLE_VARIANTS:
        if not classes:
            raise ConfigError('oracle captions need class names: the '
                              "config's dataset has none; pass --classes")
        return OracleCaptioner(
            classes,
            variant=kind,
            min_area=args.min_area if args.min_area is not None else 0.0)
    if kind == 'hf':
        if not args.model:
            raise ConfigError('--model is needed (a transformers model id or '
                              'local folder), or --captioner template '
                              '--checkpoint CKPT')
        prompt = args.prompt if args.prompt is not None else \
            default_prompt(classes)
        return HFCaptioner(
            args.model,
            prompt=prompt or None,
            device=_device(args),
            max_new_tokens=args.max_new_tokens,
            dtype=args.dtype,
            num_beams=args.num_beams,
            trust_remote_code=args.trust_remote_code)
    seg_config = args.seg_config or (args.source
                                     if _is_config(args.source) else None)
    if not seg_config or not args.checkpoint:
        raise ConfigError('--captioner template needs --checkpoint and a '
                          'segmentation config (--seg-config, or a config '
                          'as CONFIG_OR_DATA)')
    names = [c.strip()
             for c in args.classes.split(',')] if args.classes else None
    return TemplateCaptioner(
        seg_config,
        args.checkpoint,
        class_names=names,
        min_area=args.min_area if args.min_area is not None else 0.01,
        device=_device(args))


def main(argv=None):
    args = parse_args(argv)
    if args.merge and args.shard:
        raise ConfigError('--merge and --shard exclude each other: run the '
                          'shards first, then --merge')
    dist = _distributed()
    shard = parse_shard(args.shard) if args.shard else dist
    images = collect_images(args)
    items = images.items
    if args.merge:
        merged = merge_shards(items, args.out)
        print_log(f'merged {len(merged)} captions into {args.out}', 'current')
        return
    target, skip = args.out, []
    if shard is not None:
        items = shard_items(items, *shard)
        target, skip = shard_file(args.out, *shard), [args.out]
    captioner = build_captioner(args, images.classes)
    stats = caption_images(
        items,
        captioner,
        target,
        batch_size=args.batch_size,
        skip_files=skip,
        progress=not args.no_progress)
    print_log(
        f'{target}: {stats["written"]} images captioned, '
        f'{stats["skipped"]} already there ({captioner.name} captioner, '
        f'{stats["total"]} images)', 'current')
    if dist is not None and args.shard is None and dist[0] == 0:
        wait_for_shards(images.items, args.out, dist[1], args.merge_timeout)
        merged = merge_shards(images.items, args.out, dist[1])
        print_log(f'merged {len(merged)} captions into {args.out}', 'current')


if __name__ == '__main__':
    exit_on_input_error(main)
