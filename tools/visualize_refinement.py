"""Show what diffusion refinement changes, one PNG per image:

    image | first prediction | refined prediction | ground truth | edge band

Usage:
    python tools/visualize_refinement.py CONFIG CHECKPOINT [--num 4]
        [--split test] [--out work_dirs/refinement_vis] [--edge-width 3]
        [--cfg-options ...]

The config's model is a ``CascadeEncoderDecoder`` whose last head refines
the first (e.g. ``EdgeAwareMixDiffusionHead``), or a ``SemiEncoderDecoder``
around one (its ``semi_test_cfg.predict_on`` model is shown).
"""
import argparse
import os
import os.path as osp

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmseg.registry import DATASETS, MODELS
from PIL import Image

from mmseg_viladiff.models.decode_heads import edge_band
from mmseg_viladiff.models.utils import head_logits
from mmseg_viladiff.utils import adapt_cfg_to_device


def colorize(labels: np.ndarray, palette) -> np.ndarray:
    """(H, W) labels -> (H, W, 3) uint8; ignore (255) is black."""
    lut = np.zeros((256, 3), np.uint8)
    lut[:len(palette)] = np.asarray(palette, np.uint8)
    return lut[labels]


@torch.no_grad()
def first_and_refined(segmentor, inputs: torch.Tensor, size):
    """Label maps (H, W) of the first head and of the whole cascade."""
    feats = segmentor.extract_feat(inputs)
    return [
        F.interpolate(
            head_logits(segmentor, feats, refined)[0],
            size=size,
            mode='bilinear',
            align_corners=False).argmax(1)[0].numpy()
        for refined in (False, True)
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--num', type=int, default=4)
    parser.add_argument('--split', choices=['val', 'test'], default='test')
    parser.add_argument('--out', default='work_dirs/refinement_vis')
    parser.add_argument('--edge-width', type=int, default=3)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config')
    args = parser.parse_args(argv)

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    adapt_cfg_to_device(cfg)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.eval()
    segmentor = getattr(model, 'predictor', model)
    if not isinstance(segmentor.decode_head, torch.nn.ModuleList):
        raise SystemExit(f'error: {args.config}: the model has no refining '
                         'head (expected a CascadeEncoderDecoder)')
    dataset = DATASETS.build(cfg[f'{args.split}_dataloader'].dataset)
    palette = dataset.metainfo['palette']
    os.makedirs(args.out, exist_ok=True)
    for i in range(min(args.num, len(dataset))):
        batch = model.data_preprocessor(pseudo_collate([dataset[i]]), False)
        sample = batch['data_samples'][0]
        gt = sample.gt_sem_seg.data[0].numpy().astype(np.uint8)
        first, refined = first_and_refined(segmentor, batch['inputs'],
                                           gt.shape)
        image = np.asarray(Image.open(sample.img_path).convert('RGB'))
        band = edge_band(
            torch.from_numpy(gt.astype(np.int64))[None],
            args.edge_width)[0].numpy()
        band_img = np.where(band[..., None], 255, image // 3).astype(np.uint8)
        panel = np.concatenate([
            image,
            colorize(first.astype(np.uint8), palette),
            colorize(refined.astype(np.uint8), palette),
            colorize(gt, palette), band_img
        ],
                               axis=1)
        name = osp.splitext(osp.basename(sample.img_path))[0]
        path = osp.join(args.out, f'{name}.png')
        Image.fromarray(panel).save(path)
        changed = (first != refined).mean() * 100
        valid = gt != 255
        acc = [((x == gt) & valid & band).sum() / max(
            (valid & band).sum(), 1) * 100 for x in (first, refined)]
        print(f'{path}: refinement changed {changed:.1f}% of pixels; '
              f'accuracy in the edge band {acc[0]:.1f}% -> {acc[1]:.1f}%')


if __name__ == '__main__':
    main()
