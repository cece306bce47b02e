"""Semi-supervised training step vs the sum of its parts, inference time
with diffusion refinement, and peak training memory, in one table.

For the full ViLaDiff CamVid config and the plain mean-teacher config, one
run measures, interleaved in the same process (one full step, then its
parts, repeated; median of ``--repeats`` after ``--warmup`` rounds):

* the training step: ``model.train_step(data, optim_wrapper)`` (data
  preprocessing, teacher pseudo labels, thresholds, CutMix, student losses
  on labeled + unlabeled crops, loss parsing, backward, SGD step);
* its parts, called through the code paths the step uses: data
  preprocessing (``model.data_preprocessor``), the teacher
  (``model.get_pseudo_labels``; with diffusion refinement for the full
  config), the student (``model.student.loss`` on the labeled and on the
  CutMixed strong unlabeled crops, + backward), the optimizer
  (``optim_wrapper.step`` + ``zero_grad``). What the step adds on top
  (confidence masks, CutMix, relabelling, loss parsing) is the framework's
  share: the ratio step / sum of parts (target: at most 1.15x);
* the EMA teacher update that ``SemiMeanTeacherHook`` runs after each step
  (shown apart, not part of ``train_step``);
* peak resident memory (``VmHWM``; see :func:`rss_mib` for why not
  ``ru_maxrss``) of a fresh subprocess per config that builds the model
  and optimizer and runs ``--memory-steps`` training steps (+ EMA updates)
  at the same batch, and its resident memory once built;
* inference time per 320x240 image of the full model's segmentor
  (``mode='tensor'``) with K = 0, 1, 3 denoising steps, and of the mean
  teacher's (no refinement), timed by ``benchmarks/diffusion_refine_speed.py``.

Data: synthetic tensors of the CamVid configs' training shapes, batch 4
labeled + 4 unlabeled 192x192 crops (random uint8 images, random labels of
the 11 classes, one template-style caption per image); the confidence
threshold is set to 0 so every pseudo label reaches the loss (compute does
not depend on the values). Weights are not loaded (time does not depend on
them).

    python benchmarks/train_step_speed.py [--repeats 10] [--warmup 3]
        [--memory-steps 5] [--threads N]
"""
import argparse
import importlib.util
import json
import os.path as osp
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules

from mmseg_viladiff.engine.hooks.semi_mean_teacher_hook import ema_update
from mmseg_viladiff.models.utils import cutmix
from mmseg_viladiff.utils import adapt_cfg_to_device
from mmseg_viladiff.utils.constants import IGNORE_INDEX

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: column name -> config, both semi-supervised CamVid 1/8 configs
CONFIGS = {
    'ViLaDiff (full)': 'configs/viladiff/deeplabv3p_effnetl0_camvid_1-8.py',
    'mean teacher': 'configs/viladiff/meanteacher_effnetl0_camvid_1-8.py',
}
LABELED = UNLABELED = 4
CROP = 192
NUM_CLASSES = 11
INFER_SIZE = (240, 320)
REFINE_STEPS = (0, 1, 3)
CAPTIONS = ('a photo showing road, sky and building.',
            'a photo showing road, car and tree.',
            'a photo showing building, pavement and pedestrian.',
            'a photo showing sky, tree and pole.',
            'a photo showing road, fence and bicyclist.',
            'a photo showing car, signsymbol and building.',
            'a photo showing road and sky.',
            'a photo showing tree, pavement and car.')


def refine_speed_module():
    """``benchmarks/diffusion_refine_speed.py`` (benchmarks/ is not a
    package), for its ``build`` and ``median_time``."""
    path = osp.join(ROOT, 'benchmarks', 'diffusion_refine_speed.py')
    spec = importlib.util.spec_from_file_location('diffusion_refine_speed',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------
# model and data
def build_training(config: str, text_cache: str):
    """The config's ``SemiEncoderDecoder`` in train mode (teacher = student,
    unsupervised weight ramped up, threshold 0) and its optimizer wrapper.

    Returns:
        tuple: (model, optim_wrapper).
    """
    cfg = Config.fromfile(osp.join(ROOT, config))
    adapt_cfg_to_device(cfg)
    segmentor = cfg.model.segmentor
    segmentor.backbone.init_cfg = None
    if 'promptor' in segmentor:
        segmentor.promptor.cache_dir = text_cache
    cfg.model.semi_train_cfg.threshold = 0.0
    model = MODELS.build(cfg.model).train()
    ema_update(model.teacher, model.student, momentum=0.)
    model.set_train_iter(10**6)  # past the unsupervised weight ramp-up
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


def _samples(captions, seed: int, labels: bool) -> List[SegDataSample]:
    g = torch.Generator().manual_seed(seed)
    out = []
    for caption in captions:
        sample = SegDataSample(
            metainfo=dict(
                img_shape=(CROP, CROP),
                pad_shape=(CROP, CROP),
                ori_shape=(CROP, CROP),
                caption=caption))
        if labels:
            sample.gt_sem_seg = PixelData(
                data=torch.randint(
                    0, NUM_CLASSES, (1, CROP, CROP), generator=g))
        out.append(sample)
    return out


def make_batch(seed: int = 0) -> dict:
    """A collated ``MultiViewPack`` batch as the dataloader gives it:
    ``inputs`` and ``data_samples`` per branch (``sup``, ``unsup_weak``,
    ``unsup_strong``), uint8 (3, 192, 192) images."""
    g = torch.Generator().manual_seed(seed)

    def images(n):
        return [
            torch.randint(0, 256, (3, CROP, CROP), generator=g).to(torch.uint8)
            for _ in range(n)
        ]

    labeled, unlabeled = CAPTIONS[:LABELED], CAPTIONS[LABELED:]
    return dict(
        inputs=dict(
            sup=images(LABELED),
            unsup_weak=images(UNLABELED),
            unsup_strong=images(UNLABELED)),
        data_samples=dict(
            sup=_samples(labeled, seed, labels=True),
            unsup_weak=_samples(unlabeled, seed, labels=False),
            unsup_strong=_samples(unlabeled, seed, labels=False)))


# ---------------------------------------------------------------------------
# timing
#: the parts of a step, in order, with their table labels
PARTS = {
    'preprocess': 'data preprocessing',
    'teacher':
    'teacher pseudo labels, `get_pseudo_labels` (full: with refinement)',
    'student': 'student losses (labeled + unlabeled) + backward',
    'optimizer': 'optimizer step + zero_grad',
}


def timed(fn: Callable):
    """(seconds, result) of one call."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _loss_sum(losses: dict) -> torch.Tensor:
    return sum(v for k, v in losses.items() if 'loss' in k)


def time_parts(model, optim_wrapper, data: dict) -> Dict[str, float]:
    """One semi-supervised step, split into its parts and each part timed.

    The glue between the parts (confidence mask, CutMix, relabelling) runs
    untimed, as in :meth:`SemiEncoderDecoder.loss`, so the student sees
    the same kind of batch as in the step.
    """
    cfg = model.semi_train_cfg
    branch = cfg['teacher_branch']
    times = {}
    times['preprocess'], batch = timed(
        lambda: model.data_preprocessor(data, True))
    inputs, samples = batch['inputs'], batch['data_samples']
    times['teacher'], (probs, labels, confidence) = timed(
        lambda: model.get_pseudo_labels(inputs[branch], samples[branch]))
    with torch.no_grad():  # glue: untimed
        keep = (confidence >= model.thresholds(probs, labels)) & \
            (labels != IGNORE_INDEX)
        masked = torch.where(keep, labels,
                             torch.full_like(labels, IGNORE_INDEX))
        strong, (masked, ) = cutmix(inputs['unsup_strong'], (masked, ),
                                    cfg['cutmix_prob'])[:2]
        pseudo = model._with_labels(samples['unsup_strong'], masked)

    def student():
        sup = _loss_sum(model.student.loss(inputs['sup'], samples['sup']))
        unsup = _loss_sum(model.student.loss(strong, pseudo))
        (cfg['sup_weight'] * sup +
         model.current_unsup_weight * unsup).backward()

    times['student'], _ = timed(student)

    def optimizer():
        optim_wrapper.step()
        optim_wrapper.zero_grad()

    times['optimizer'], _ = timed(optimizer)
    times['ema'], _ = timed(
        lambda: ema_update(model.teacher, model.student, 0.99))
    return times


def measure_steps(model, optim_wrapper, warmup: int,
                  repeats: int) -> Dict[str, float]:
    """Median seconds of the full step and of each part: each round runs a
    full step and a split step (on the same batch), in alternating order.
    ``round_ratio``: the median over rounds of step / sum of parts, which
    pairs measurements taken seconds apart (robust to load that changes
    during the run)."""
    rows: Dict[str, List[float]] = {}
    for i in range(warmup + repeats):
        full_data, split_data = make_batch(i), make_batch(i)

        def full_step() -> float:
            return timed(lambda: model.train_step(full_data, optim_wrapper))[0]

        if i % 2:  # alternate the order: neither always runs first
            parts = time_parts(model, optim_wrapper, split_data)
            step = full_step()
        else:
            step = full_step()
            parts = time_parts(model, optim_wrapper, split_data)
        if i < warmup:
            continue
        rows.setdefault('step', []).append(step)
        rows.setdefault('round_ratio',
                        []).append(step / sum(parts[k] for k in PARTS))
        for key, value in parts.items():
            rows.setdefault(key, []).append(value)
    return {key: statistics.median(values) for key, values in rows.items()}


# ---------------------------------------------------------------------------
# memory (fresh process per config)
def rss_mib() -> Dict[str, float]:
    """Resident memory of this process now and at its peak (MiB).

    Read from ``/proc/self/status`` (``VmRSS``, ``VmHWM``): Linux's
    ``getrusage(RUSAGE_SELF).ru_maxrss`` is inherited across fork and kept
    across exec, so in a subprocess it reports at least the parent's peak.
    Elsewhere falls back to ``ru_maxrss`` for both.
    """
    try:
        with open('/proc/self/status') as f:
            fields = dict(line.split(':', 1) for line in f if ':' in line)
        return dict(
            now=int(fields['VmRSS'].split()[0]) / 1024,
            peak=int(fields['VmHWM'].split()[0]) / 1024)
    except (OSError, KeyError):  # not Linux: KiB on most Unix systems
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return dict(now=peak, peak=peak)


def memory_probe(config: str, steps: int) -> dict:
    """Build model + optimizer, run ``steps`` training steps: resident
    memory after building (``built_mib``) and the process's peak
    (``peak_mib``), in MiB."""
    with tempfile.TemporaryDirectory() as cache:
        model, optim_wrapper = build_training(config, cache)
        built = rss_mib()['now']
        for i in range(steps):
            model.train_step(make_batch(i), optim_wrapper)
            ema_update(model.teacher, model.student, 0.99)
        return dict(built_mib=built, peak_mib=rss_mib()['peak'])


def measure_memory(config: str, steps: int, threads: int) -> dict:
    """:func:`memory_probe` in a fresh Python process."""
    proc = subprocess.run([
        sys.executable, __file__, '--memory-probe', config, '--memory-steps',
        str(steps), '--threads',
        str(threads)
    ],
                          cwd=ROOT,
                          capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise RuntimeError(f'memory probe of {config} failed:\n'
                           f'{proc.stderr[-3000:]}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------
# inference
def measure_inference(repeats: int) -> Dict[str, Dict[int, float]]:
    """Seconds per 320x240 image: the full model's segmentor with K
    refinement steps, and the mean teacher's segmentor (K = 0: it has no
    refinement head)."""
    refine = refine_speed_module()
    x = torch.rand(1, 3, *INFER_SIZE)
    full, plain = CONFIGS['ViLaDiff (full)'], CONFIGS['mean teacher']
    out = {'ViLaDiff (full)': {}, 'mean teacher': {}}
    for k in REFINE_STEPS:
        out['ViLaDiff (full)'][k] = refine.median_time(
            refine.build(full, k), x, repeats)
    out['mean teacher'][0] = refine.median_time(
        refine.build(plain), x, repeats)
    return out


# ---------------------------------------------------------------------------
def table(steps: Dict[str, Dict[str, float]], memory: Dict[str, dict],
          inference: Dict[str, Dict[int, float]]) -> List[str]:
    """The Markdown table: one column per config."""
    names = list(CONFIGS)

    def row(label: str, cell: Callable[[str], str]) -> str:
        return f'| {label} | ' + ' | '.join(cell(n) for n in names) + ' |'

    def ms(key):
        return lambda n: f'{1e3 * steps[n][key]:.1f}'

    def parts_sum(n):
        return sum(steps[n][k] for k in PARTS)

    lines = [
        '| what | ' + ' | '.join(names) + ' |',
        '| --- |' + ' ---: |' * len(names),
        row('training step, `model.train_step` (ms)', ms('step')),
    ]
    for key, label in PARTS.items():
        lines.append(row(f'part: {label} (ms)', ms(key)))
    lines += [
        row('sum of parts (ms)', lambda n: f'{1e3 * parts_sum(n):.1f}'),
        row('**step / sum of parts** (medians above)',
            lambda n: f'**{steps[n]["step"] / parts_sum(n):.3f}x**'),
        row('step / sum of parts, median of per-round ratios',
            lambda n: f'{steps[n]["round_ratio"]:.3f}x'),
        row('EMA teacher update after the step (ms, not in the step)',
            ms('ema')),
        row('resident memory, model + optimizer built (MiB)',
            lambda n: f'{memory[n]["built_mib"]:.0f}'),
        row('**peak resident memory of training (MiB)**',
            lambda n: f'**{memory[n]["peak_mib"]:.0f}**'),
    ]
    for k in REFINE_STEPS:
        label = f'inference, K={k} refinement steps (ms / image)'
        lines.append(
            row(
                label, lambda n: f'{1e3 * inference[n][k]:.1f}'
                if k in inference[n] else '-'))
    return lines


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--repeats', type=int, default=10, help='timed rounds (median)')
    parser.add_argument(
        '--warmup', type=int, default=3, help='untimed rounds first')
    parser.add_argument(
        '--infer-repeats',
        type=int,
        default=20,
        help='timed inference runs per model (median)')
    parser.add_argument(
        '--memory-steps',
        type=int,
        default=5,
        help='training steps of the memory probe')
    parser.add_argument(
        '--threads',
        type=int,
        default=torch.get_num_threads(),
        help='torch threads')
    parser.add_argument(
        '--memory-probe', metavar='CONFIG', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.memory_probe:  # the subprocess of measure_memory
        print(json.dumps(memory_probe(args.memory_probe, args.memory_steps)))
        return
    steps = {}
    with tempfile.TemporaryDirectory() as cache:
        for name, config in CONFIGS.items():
            model, optim_wrapper = build_training(config, cache)
            steps[name] = measure_steps(model, optim_wrapper, args.warmup,
                                        args.repeats)
            del model, optim_wrapper
    memory = {
        name: measure_memory(config, args.memory_steps, args.threads)
        for name, config in CONFIGS.items()
    }
    inference = measure_inference(args.infer_repeats)
    print(f'batch {LABELED} labeled + {UNLABELED} unlabeled {CROP}x{CROP} '
          f'synthetic crops; {args.threads} threads; step and parts: median '
          f'of {args.repeats} interleaved rounds after {args.warmup} '
          f'warm-up; memory: fresh process, {args.memory_steps} steps; '
          f'inference: {INFER_SIZE[0]}x{INFER_SIZE[1]}, median of '
          f'{args.infer_repeats}; torch {torch.__version__}')
    for name, config in CONFIGS.items():
        print(f'{name}: {config}')
    print('\n'.join(table(steps, memory, inference)))


if __name__ == '__main__':
    main()
