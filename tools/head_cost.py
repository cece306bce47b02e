"""Parameters, multiply-adds and CPU time of a config's decode head.

Builds the config's (student) segmentor without pretrained weights, runs
the backbone (and neck) once on a random batch of crops, then measures the
decode head alone on those features: parameters, forward multiply-adds
(PyTorch's FLOP counter / 2: convolutions and matrix products), and the
median seconds of a forward + backward (the training cost) over a few
repeats. Compare two configs (e.g. a VL head against the DeepLabV3+ head
it replaces) on the same machine, one after the other; no training runs.

Example:
    python tools/head_cost.py \
        configs/viladiff/meanteacher_effnetl0_camvid_1-8.py \
        configs/viladiff/semivl_effnetl0_camvid_1-8.py --batch 8
"""
import argparse
import statistics
import time

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from torch.utils.flop_counter import FlopCounterMode

from mmseg_viladiff.models.utils import head_logits
from mmseg_viladiff.utils import (ConfigError, adapt_cfg_to_device,
                                  exit_on_input_error)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=(192, 192),
        metavar=('H', 'W'),
        help='crop size')
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=3)
    return parser.parse_args(argv)


def head_cost(config: str,
              size=(192, 192),
              batch: int = 2,
              repeats: int = 3) -> dict:
    """``params`` (decode head(s), millions), ``gmac`` (forward multiply-
    adds per image, 1e9) and ``seconds`` (median forward + backward of the
    batch) of the decode head(s) of ``config`` (a cascade's heads run as in
    inference: each refines the previous one's logits)."""
    if batch < 2:
        raise ConfigError(f'--batch must be >= 2 (training-mode batch norm '
                          f'needs two samples), got {batch}')
    init_default_scope('mmseg')
    cfg = Config.fromfile(config)
    adapt_cfg_to_device(cfg)
    seg_cfg = cfg.model.get('segmentor', cfg.model)
    seg_cfg.backbone.init_cfg = None
    seg_cfg.pop('pretrained', None)
    segmentor = MODELS.build(seg_cfg).train()
    head = segmentor.decode_head
    with torch.no_grad():
        feats = segmentor.extract_feat(torch.rand(batch, 3, *size))
    params = sum(p.numel() for p in head.parameters())
    run = lambda: head_logits(segmentor, feats)[0]  # noqa: E731
    with FlopCounterMode(display=False) as counter:
        run()  # (with autograd on: the counter's module hooks need it)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run().float().mean().backward()
        times.append(time.perf_counter() - start)
    return dict(
        params=params / 1e6,
        gmac=counter.get_total_flops() / 2 / batch / 1e9,
        seconds=statistics.median(times))


def main(argv=None):
    args = parse_args(argv)
    print(f'{"config":60s} {"params/M":>9s} {"GMAC/img":>9s} {"s/step":>7s}')
    for config in args.configs:
        cost = head_cost(config, tuple(args.size), args.batch, args.repeats)
        print(f'{config:60s} {cost["params"]:9.3f} {cost["gmac"]:9.3f} '
              f'{cost["seconds"]:7.3f}')


if __name__ == '__main__':
    exit_on_input_error(main)
