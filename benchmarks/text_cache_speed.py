"""Per-iteration text cost of the VL path: cached vs uncached, against one
training step, all measured in this one run.

A batch of the CamVid CPU config (4 labeled + 4 unlabeled 192x192 crops)
needs the captions of its 8 images (the unlabeled ones twice: weak view for
the teacher, strong view for the student). This script times, per batch:

* ``CaptionPromptor`` with the embeddings in memory (every caption seen
  before in the run: the steady state of training),
* the same reading them from the on-disk cache (a new run),
* with no cache (the frozen MiniLM encodes the 8 captions every time),

and one training step (``SemiEncoderDecoder.loss`` + backward) of the full
ViLaDiff CamVid config on random images of the same shapes. Captions are
template-style sentences over random CamVid class subsets, all different.

    python benchmarks/text_cache_speed.py [--repeats 20] [--threads N]
"""
import argparse
import importlib.util
import os.path as osp
import random
import statistics
import tempfile
import time

import torch
from mmengine.config import Config
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules

from mmseg_viladiff.text import TextEmbeddingCache, get_vocabulary
from mmseg_viladiff.utils import adapt_cfg_to_device

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = 'configs/viladiff/deeplabv3p_effnetl0_camvid_1-8.py'
CROP = 192


def make_captions(n: int, seed: int = 0) -> list:
    """``n`` different template-style captions over CamVid classes."""
    rng = random.Random(seed)
    classes = get_vocabulary('camvid').classes
    captions = set()
    while len(captions) < n:
        names = rng.sample(classes, rng.randint(2, 6))
        captions.add(f'a street scene with {", ".join(names[:-1])} and '
                     f'{names[-1]} (view {rng.randint(0, 10**6)}).')
    return sorted(captions)


def samples(captions, labels=True):
    """Data samples of the training shapes (shared with the step
    benchmark)."""
    spec = importlib.util.spec_from_file_location(
        'train_step_speed', osp.join(ROOT, 'benchmarks',
                                     'train_step_speed.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._samples(captions, seed=0, labels=labels)


def median(fn, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    args = parser.parse_args(argv)
    register_all_modules()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = Config.fromfile(osp.join(ROOT, CONFIG))
    adapt_cfg_to_device(cfg)
    tmp = tempfile.TemporaryDirectory()
    cfg.model.segmentor.promptor.cache_dir = tmp.name
    model = MODELS.build(cfg.model).train()
    promptor = model.student.promptor
    encoder = promptor.cache.encoder

    # (labeled + unlabeled) captions per batch, the unlabeled read twice
    per_batch = 8
    pool = iter(make_captions(per_batch * (3 * args.repeats + 10)))
    batch_metas = lambda: [  # noqa: E731
        dict(caption=next(pool)) for _ in range(per_batch)
    ]

    def memory():
        promptor(fixed)

    def disk():  # a fresh cache object: nothing in memory, files on disk
        promptor.cache = TextEmbeddingCache(encoder, tmp.name)
        promptor(fixed)

    def uncached():
        promptor.cache = TextEmbeddingCache(encoder, None)
        promptor(batch_metas())

    fixed = batch_metas()
    rows = [('text: embeddings in memory', median(memory, args.repeats)),
            ('text: read from disk cache', median(disk, args.repeats)),
            ('text: no cache (MiniLM encodes)', median(uncached,
                                                       args.repeats))]
    promptor.cache = TextEmbeddingCache(encoder, tmp.name)

    captions = make_captions(8, seed=1)
    inputs = dict(
        sup=torch.rand(4, 3, CROP, CROP) * 255,
        unsup_weak=torch.rand(4, 3, CROP, CROP) * 255,
        unsup_strong=torch.rand(4, 3, CROP, CROP) * 255)
    data = dict(
        sup=samples(captions[:4]),
        unsup_weak=samples(captions[4:], labels=False),
        unsup_strong=samples(captions[4:], labels=False))
    model.semi_train_cfg['threshold'] = 0.0  # a loss on every pixel

    def step():
        losses = model.loss({
            k: (v - 127) / 128
            for k, v in inputs.items()
        }, data)
        sum(v for k, v in losses.items() if 'loss' in k).backward()

    step_time = median(step, max(3, args.repeats // 4), warmup=1)
    print(f'{CONFIG}, batch 4 labeled + 4 unlabeled {CROP}x{CROP}, '
          f'{args.threads} threads; text = one batch of 8 captions')
    print(f'| {"what":34s} | {"ms / iteration":>14s} | '
          f'{"share of a step":>15s} |')
    print(f'|{"-" * 36}|{"-" * 16}:|{"-" * 16}:|')
    for name, t in rows + [('training step (loss + backward)', step_time)]:
        print(f'| {name:34s} | {1000 * t:14.2f} | '
              f'{100 * t / step_time:14.2f}% |')
    tmp.cleanup()


if __name__ == '__main__':
    main()
