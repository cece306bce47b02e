"""Check, before a run starts, that the data a config points to exists."""
import os.path as osp
from typing import Iterator, Tuple

from .errors import DataError

#: how to obtain each dataset, shown when its files are missing
PREPARE_HINTS = {
    'PascalVOCDataset':
    'Download VOCtrainval_11-May-2012.tar and the SBD "benchmark.tgz", '
    'extract them under data/VOCdevkit (VOC2012 and VOCaug), run MMSeg\'s '
    'converter `python tools/dataset_converters/voc_aug.py data/VOCdevkit '
    'data/VOCdevkit/VOCaug` (from the mmsegmentation repository) to get '
    'SegmentationClassAug and ImageSets/Segmentation/aug.txt, then write '
    'the partitions with `python tools/make_splits.py`. See README.md, '
    '"Data".',
    'CamVidDataset':
    'Link the SegNet-layout CamVid folder: `ln -s /path/to/camvid '
    'data/camvid` (on the project machines: `ln -s ../shared/data/camvid '
    'data/camvid` from the repository root).',
    'SyntheticShapesDataset':
    'Generate it with `python tools/make_synthetic_data.py`.',
    'BaseSegDataset':
    'Put your images and masks under data_root in MMSeg\'s layout '
    '(img_dir/train, ann_dir/train, img_dir/val, ann_dir/val) and write the '
    'splits with `python tools/make_splits.py --img-dir ...`; see '
    'docs/custom_dataset.md.',
}


def _leaf_datasets(cfg, key: str) -> Iterator[Tuple[str, dict]]:
    """Yield (config key, dataset cfg) for every dataset with a data_root."""
    if isinstance(cfg, dict):
        if 'data_root' in cfg:
            yield key, cfg
        for name in ('dataset', 'datasets'):
            if name in cfg:
                yield from _leaf_datasets(cfg[name], f'{key}.{name}')
    elif isinstance(cfg, (list, tuple)):
        for i, sub in enumerate(cfg):
            yield from _leaf_datasets(sub, f'{key}.{i}')


def check_data_paths(
    cfg, loaders=('train_dataloader', 'val_dataloader', 'test_dataloader')
) -> None:
    """Raise one :class:`DataError` listing every missing data path.

    Args:
        cfg (Config): the full config.
        loaders (tuple[str]): dataloader keys to check (absent keys and
            ``None`` loaders are skipped).

    Raises:
        DataError: with the dataset type, the config key of its ``data_root``,
            the missing paths and how to prepare or relocate the data.
    """
    problems = []
    for loader in loaders:
        loader_cfg = cfg.get(loader)
        if not loader_cfg or 'dataset' not in loader_cfg:
            continue
        for key, ds in _leaf_datasets(loader_cfg['dataset'],
                                      f'{loader}.dataset'):
            root = ds['data_root']
            paths = [root]
            prefix = ds.get('data_prefix') or {}
            paths += [osp.join(root, p) for p in prefix.values() if p]
            if ds.get('ann_file'):
                paths.append(osp.join(root, ds['ann_file']))
            missing = [p for p in paths if not osp.exists(p)]
            if missing:
                problems.append((key, ds.get('type', '?'), root, missing))
    if not problems:
        return
    lines = []
    for key, ds_type, root, missing in problems:
        lines.append(f'{ds_type} ({key}) expects its data under '
                     f'{root!r} (absolute: {osp.abspath(root)}); missing:')
        lines += [f'  - {p}' for p in missing[:5]]
        if ds_type in PREPARE_HINTS:
            lines.append(f'  To prepare it: {PREPARE_HINTS[ds_type]}')
        lines.append(f'  To use data stored elsewhere: symlink it to {root!r}'
                     f' or pass --cfg-options {key}.data_root=/your/path')
    raise DataError('dataset files not found.\n' + '\n'.join(lines))
