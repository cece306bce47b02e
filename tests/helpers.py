"""Tiny, fast configs for tests: the synthetic demo configs on temp data."""
import os.path as osp

from conftest import REPO_ROOT
from mmengine.config import Config

SYNTHETIC_CONFIG = osp.join(REPO_ROOT, 'configs', 'baselines',
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

VILADIFF_SYNTHETIC_CONFIG = osp.join(REPO_ROOT, 'configs', 'viladiff',
                                     'deeplabv3p_effnetl0_synthetic.py')


def set_data_root(node, data_root: str) -> None:
    """Point every ``data_root`` of a config (datasets, LoadCaption) at
    ``data_root``."""
    if isinstance(node, dict):
        if 'data_root' in node:
            node['data_root'] = data_root
        for value in node.values():
            set_data_root(value, data_root)
    elif isinstance(node, (list, tuple)):
        for value in node:
            set_data_root(value, data_root)


def tiny_semi_cfg(data_root: str,
                  work_dir: str,
                  max_iters: int = 2,
                  num_workers: int = 0,
                  config: str = SEMI_SYNTHETIC_CONFIG) -> Config:
    """A semi-supervised synthetic config (default: the mean-teacher demo;
    :data:`VILADIFF_SYNTHETIC_CONFIG`: full ViLaDiff): batches of 2 labeled
    + 2 unlabeled 64x64 images, no pretrained weights, ``max_iters``
    iterations."""
    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'test_pipeline'):
        set_data_root(cfg.get(key), data_root)
    for key in ('val_dataloader', 'test_dataloader'):
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
    if 'promptor' in cfg.model.segmentor:
        cfg.model.segmentor.promptor.cache_dir = osp.join(
            work_dir, 'text_cache')
    cfg.model.semi_train_cfg.threshold = 0.3
    cfg.randomness = dict(seed=0)
    return cfg


def save_tiny_clip(folder: str) -> str:
    """A randomly initialised 1-layer CLIP (32-d), saved the way open_clip
    reads a local model folder. Returns its ``local-dir:`` model name."""
    import json
    import os

    import open_clip
    import torch
    model_cfg = dict(
        embed_dim=32,
        vision_cfg=dict(
            image_size=32, layers=1, width=32, patch_size=16, head_width=16),
        text_cfg=dict(
            context_length=77, vocab_size=49408, width=32, heads=2, layers=1))
    os.makedirs(folder, exist_ok=True)
    with open(osp.join(folder, 'open_clip_config.json'), 'w') as f:
        json.dump(dict(model_cfg=model_cfg), f)
    torch.manual_seed(0)
    model = open_clip.model.CLIP(**model_cfg)
    torch.save(model.state_dict(),
               osp.join(folder, 'open_clip_pytorch_model.bin'))
    return f'local-dir:{folder}'


def run_camvid_row(row: str, results_dir, work_dir, iters: int = 2,
                   val_interval: int = 2):
    """``benchmarks/camvid_semi.py run ROW`` for a few iterations, no
    dataloader workers; returns the finished ``CompletedProcess``."""
    import subprocess
    import sys
    return subprocess.run([
        sys.executable,
        osp.join(REPO_ROOT, 'benchmarks', 'camvid_semi.py'), 'run', row,
        '--iters',
        str(iters), '--val-interval',
        str(val_interval), '--num-workers', '0', '--results-dir',
        str(results_dir), '--work-dir',
        str(work_dir)
    ],
                          capture_output=True,
                          text=True,
                          cwd=REPO_ROOT)


def seg_samples(labels) -> list:
    """SegDataSamples of label maps (B, H, W) long, image size = label
    size."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    out = []
    for label in labels:
        shape = tuple(label.shape)
        s = SegDataSample(
            metainfo=dict(img_shape=shape, pad_shape=shape, ori_shape=shape))
        s.gt_sem_seg = PixelData(data=label[None])
        out.append(s)
    return out


def diffusion_head(**kwargs):
    """A small EdgeAwareMixDiffusionHead (4 input channels, 2 classes,
    T = 20, BN), ``kwargs`` on top."""
    from mmseg_viladiff.models.decode_heads import EdgeAwareMixDiffusionHead
    cfg = dict(
        in_channels=4,
        channels=16,
        in_index=0,
        num_classes=2,
        norm_cfg=dict(type='BN'),
        num_timesteps=20,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0))
    cfg.update(kwargs)
    return EdgeAwareMixDiffusionHead(**cfg)


def viladiff_model_cfg(cache_dir: str):
    """The ViLaDiff synthetic config's ``model`` node for this device, its
    backbone without pretrained weights, its text cache in ``cache_dir``."""
    from mmseg_viladiff.utils import adapt_cfg_to_device
    cfg = Config.fromfile(VILADIFF_SYNTHETIC_CONFIG)
    adapt_cfg_to_device(cfg)
    cfg.model.segmentor.backbone.init_cfg = None
    cfg.model.segmentor.promptor.cache_dir = cache_dir
    return cfg.model


def plain_vl_segmentor(model_cfg, **neck):
    """A VLEncoderDecoder built from the ViLaDiff synthetic config's model
    (``model_cfg``: its ``model`` node): its first decode head only, the
    heads' vision-only task loss on, and ``neck`` options; seeded."""
    import copy

    import torch
    from mmseg.registry import MODELS
    cfg = copy.deepcopy(model_cfg.segmentor)
    cfg.type = 'VLEncoderDecoder'
    cfg.decode_head = cfg.decode_head[0]
    cfg.pop('num_stages')
    cfg.vision_task_weight = 1.0
    cfg.neck.update(neck)
    torch.manual_seed(0)
    return MODELS.build(cfg)
