"""Inference time of DeepLabV3+ alone vs with diffusion refinement (K steps).

Builds the CPU CamVid models from their configs (no weights needed: time
does not depend on them), runs the whole model (``mode='tensor'``) on one
image, and prints median times and their ratio to the plain model, all
measured in this one run.

    python benchmarks/diffusion_refine_speed.py [--size H W] [--steps 1 3 10]
"""
import argparse
import os.path as osp
import statistics
import time

import torch
from mmengine.config import Config
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules

from mmseg_viladiff.utils import adapt_cfg_to_device

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PLAIN = 'configs/baselines/deeplabv3p_effnetl0_camvid_1-8.py'
REFINED = 'configs/viladiff/meanteacher-diffrefine_effnetl0_camvid_1-8.py'


def build(config: str, steps=None) -> torch.nn.Module:
    cfg = Config.fromfile(osp.join(ROOT, config))
    adapt_cfg_to_device(cfg)
    model_cfg = cfg.model.get('segmentor', cfg.model)
    if steps is not None:
        model_cfg.decode_head[-1].num_inference_steps = steps
    return MODELS.build(model_cfg).eval()


@torch.no_grad()
def median_time(model, x, repeats: int) -> float:
    for _ in range(3):  # warm-up
        model(x, mode='tensor')
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model(x, mode='tensor')
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', type=int, nargs=2, default=(240, 320))
    parser.add_argument('--steps', type=int, nargs='+', default=(1, 3, 10))
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    args = parser.parse_args(argv)
    register_all_modules()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.rand(1, 3, *args.size)
    rows = [('DeepLabV3+ (plain)', median_time(build(PLAIN), x,
                                               args.repeats))]
    for k in args.steps:
        rows.append((f'+ diffusion refinement, K={k}',
                     median_time(build(REFINED, k), x, args.repeats)))
    base = rows[0][1]
    print(f'image {args.size[0]}x{args.size[1]}, {args.threads} threads, '
          f'median of {args.repeats} runs, torch {torch.__version__}')
    print('| model | ms / image | ratio to plain |')
    print('| --- | --- | --- |')
    for name, sec in rows:
        print(f'| {name} | {sec * 1e3:.1f} | {sec / base:.2f}x |')


if __name__ == '__main__':
    main()
