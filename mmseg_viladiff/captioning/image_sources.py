"""The images to caption: every image of a config's datasets, or of a folder.

A config contributes the images of its train, val and test dataloaders,
through any ``ConcatDataset`` / ``PartitionDataset`` wrappers, so labeled
and unlabeled partitions are both covered. Each image is keyed by its path
relative to its dataset's ``data_root`` (the key of the caption cache that
:class:`~mmseg_viladiff.datasets.transforms.LoadCaption` looks up).
"""
import copy
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from ..utils.errors import ConfigError, DataError
from .caption_file import image_key

#: file endings taken as images when a folder is captioned
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


@dataclass(frozen=True)
class ImageItem:
    """One image to caption.

    Attributes:
        key (str): path relative to the data root, POSIX separators.
        path (str): path to read the image from.
        seg_path (str, optional): its label map, set only when asked for
            (oracle captions, a diagnostic that reads labels).
        label_map (tuple, optional): the dataset's ``(old, new)`` label id
            pairs, applied when the label map is read.
        reduce_zero_label (bool): the dataset's ``reduce_zero_label``.
    """
    key: str
    path: str
    seg_path: Optional[str] = None
    label_map: Optional[Tuple[Tuple[int, int], ...]] = None
    reduce_zero_label: bool = False


@dataclass
class ImageSet:
    """The images of a config or folder, sorted by key, without repeats.

    Attributes:
        items (list[ImageItem]): images sorted by key.
        classes (tuple[str], optional): the dataset's class names.
        roots (list[str]): the data roots the keys are relative to.
    """
    items: List[ImageItem]
    classes: Optional[Tuple[str, ...]]
    roots: List[str]


def _leaf_cfgs(cfg) -> Iterator[dict]:
    """Every dataset config holding a ``data_root``, through wrappers."""
    if isinstance(cfg, dict):
        if 'data_root' in cfg:
            yield cfg
        for name in ('dataset', 'datasets'):
            if name in cfg:
                yield from _leaf_cfgs(cfg[name])
    elif isinstance(cfg, (list, tuple)):
        for sub in cfg:
            yield from _leaf_cfgs(sub)


def _with_labels(cfg) -> None:
    """Every ``with_label`` of a dataset config (and its wrappers) True."""
    if isinstance(cfg, dict):
        if 'with_label' in cfg:
            cfg['with_label'] = True
        for value in cfg.values():
            _with_labels(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            _with_labels(value)


def _dataset_cfgs(cfg,
                  data_root: Optional[str],
                  with_labels: bool = False) -> Dict[str, dict]:
    """The dataloaders' dataset configs by loader key, pipelines removed
    (only paths are needed), ``data_root`` replaced when given, and with
    ``with_labels`` unlabeled partitions read with their labels."""
    out = {}
    for loader in LOADERS:
        loader_cfg = cfg.get(loader)
        if not loader_cfg or not loader_cfg.get('dataset'):
            continue
        dataset = copy.deepcopy(loader_cfg['dataset'])
        for leaf in _leaf_cfgs(dataset):
            leaf['pipeline'] = []
            if data_root is not None:
                leaf['data_root'] = data_root
        if with_labels:
            _with_labels(dataset)
        out[loader] = dataset
    return out


def _owner_root(path: str, roots: Sequence[str]) -> str:
    """The deepest data root containing ``path`` (else the first root)."""
    absolute = osp.abspath(path)
    inside = [
        r for r in roots
        if absolute == r or absolute.startswith(r.rstrip(os.sep) + os.sep)
    ]
    return max(inside, key=len) if inside else roots[0]


def _dedup(items: List[ImageItem], what: str) -> List[ImageItem]:
    """ImageItems sorted by key; one key naming two files is an error."""
    by_key: Dict[str, ImageItem] = {}
    for item in items:
        known = by_key.setdefault(item.key, item)
        if osp.abspath(known.path) != osp.abspath(item.path):
            raise DataError(f'{what}: two images share the cache key '
                            f'{item.key!r}: {known.path} and {item.path}; '
                            'caption them into separate files')
    if not by_key:
        raise DataError(f'{what}: no images found')
    return [by_key[key] for key in sorted(by_key)]


def images_from_config(cfg,
                       data_root: Optional[str] = None,
                       with_labels: bool = False) -> ImageSet:
    """All images of a config's train/val/test datasets.

    Args:
        cfg (Config): a full MMSeg config (``custom_imports`` already run,
            e.g. by ``Config.fromfile``).
        data_root (str, optional): replaces every dataset's ``data_root``.
        with_labels (bool): also record each image's label map
            (``seg_path``, ``label_map``, ``reduce_zero_label``), unlabeled
            partitions included: only for oracle captions, a diagnostic
            that reads labels training must never see.

    Returns:
        ImageSet: images keyed relative to their dataset's data root,
        classes from the first dataset's ``METAINFO``.

    Raises:
        DataError: a dataset's files are missing or it has no images.
        ConfigError: the config has no dataloader with a dataset.
    """
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    from ..utils.data_check import check_data_paths
    datasets = _dataset_cfgs(cfg, data_root, with_labels)
    if not datasets:
        raise ConfigError('the config has no train/val/test dataloader with '
                          'a dataset to caption')
    probe = copy.deepcopy(cfg)
    for loader, dataset in datasets.items():
        probe[loader]['dataset'] = dataset
    check_data_paths(probe, tuple(datasets))
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    roots = sorted({
        osp.abspath(leaf['data_root'])
        for dataset in datasets.values()
        for leaf in _leaf_cfgs(dataset)
    })
    items, classes = [], None
    for dataset_cfg in datasets.values():
        dataset = DATASETS.build(dataset_cfg)
        if classes is None:
            classes = tuple(dataset.metainfo.get('classes', ())) or None
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            path = info['img_path']
            key = image_key(path, _owner_root(path, roots))
            if not with_labels:
                items.append(ImageItem(key, path))
                continue
            if not info.get('seg_map_path'):
                raise DataError(f'{path}: its dataset gives no label map, '
                                'which oracle captions need')
            label_map = info.get('label_map')
            items.append(
                ImageItem(
                    key,
                    path,
                    seg_path=info['seg_map_path'],
                    label_map=tuple(sorted(label_map.items()))
                    if label_map else None,
                    reduce_zero_label=bool(info.get('reduce_zero_label'))))
    return ImageSet(_dedup(items, 'the config\'s datasets'), classes, roots)


def images_from_folder(folder: str,
                       classes: Optional[Sequence[str]] = None) -> ImageSet:
    """Every image file under ``folder``, recursively.

    Args:
        folder (str): the data root; keys are relative to it.
        classes (Sequence[str], optional): class names for the prompt.

    Returns:
        ImageSet: files ending in :data:`IMAGE_SUFFIXES` (any case).
    """
    if not osp.isdir(folder):
        raise DataError(f'image folder not found: {folder}')
    found = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames.sort()
        for name in filenames:
            if name.lower().endswith(IMAGE_SUFFIXES):
                path = osp.join(dirpath, name)
                found.append(ImageItem(image_key(path, folder), path))
    items = _dedup(
        found, f'folder {folder} (looking for '
        f'{", ".join(IMAGE_SUFFIXES)} files)')
    return ImageSet(items,
                    tuple(classes) if classes else None, [osp.abspath(folder)])
