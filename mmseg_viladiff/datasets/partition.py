"""Semi-supervised partition files and a dataset wrapper that applies them.

Two formats are common in the semi-supervised segmentation literature, and
both are read here, one entry a line:

* ``image_path label_path`` (UniMatch, CPS, ...), paths relative to the
  dataset root, e.g.
  ``JPEGImages/2007_000032.jpg SegmentationClass/2007_000032.png``;
* one image a line, as a basename without extension (``0001TP_006690``) or a
  path relative to the dataset root or to its image folder.

Blank lines and lines starting with ``#`` are skipped.
"""
import os.path as osp
import random
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from mmengine.dataset import BaseDataset, ConcatDataset
from mmseg.registry import DATASETS

from ..utils.errors import DataError
from .file_checks import build_seg_dataset, missing_file_message


@dataclass(frozen=True)
class PartitionEntry:
    """One line of a partition file.

    Attributes:
        image (str): image as written (basename or relative path).
        label (str, optional): label path as written, for two-column lines.
        line (int): 1-based line number, for error messages.
    """
    image: str
    label: Optional[str]
    line: int


def read_partition(split_file: str) -> List[PartitionEntry]:
    """Read a partition file in either common format.

    Args:
        split_file (str): path of the partition file.

    Returns:
        list[PartitionEntry]: entries in file order.

    Raises:
        DataError: the file is missing or empty, a line has more than two
            fields, or an image is listed twice (message names file and line).
    """
    if not osp.isfile(split_file):
        raise DataError(f'partition file not found: {split_file}')
    entries, seen = [], {}
    with open(split_file, encoding='utf-8') as f:
        for lineno, raw in enumerate(f, start=1):
            line = raw.strip()
            if not line or line.startswith('#'):
                continue
            fields = line.split()
            if len(fields) > 2:
                raise DataError(f'{split_file}:{lineno}: expected "image" or '
                                '"image label",'
                                f' got {len(fields)} fields: {line!r}')
            image = osp.normpath(fields[0])
            if image in seen:
                raise DataError(f'{split_file}:{lineno}: {fields[0]!r} is '
                                f'already listed at line {seen[image]}')
            seen[image] = lineno
            label = osp.normpath(fields[1]) if len(fields) == 2 else None
            entries.append(PartitionEntry(image, label, lineno))
    if not entries:
        raise DataError(f'partition file {split_file} lists no images')
    return entries


def _leaves(dataset) -> List[Tuple[BaseDataset, int]]:
    """Flatten nested ConcatDatasets into (leaf dataset, global offset)."""
    if isinstance(dataset, ConcatDataset):
        out, offset = [], 0
        for sub in dataset.datasets:
            for leaf, sub_offset in _leaves(sub):
                out.append((leaf, offset + sub_offset))
            offset += len(sub)
        return out
    return [(dataset, 0)]


def _strip_suffix(path: str, suffix: str) -> str:
    return path[:-len(suffix)] if suffix and path.endswith(suffix) else path


@DATASETS.register_module()
class PartitionDataset:
    """Restrict any MMSeg dataset to the images of a partition file.

    The wrapped dataset (or a ``ConcatDataset`` of them, such as VOC + SBD)
    is built as usual; this wrapper keeps the samples listed in
    ``split_file``, in file order, and checks that each listed image (and its
    label, when ``with_label``) exists. A two-column line's label path
    replaces the wrapped dataset's label path for that image.

    An entry matches a sample when it equals the image path relative to the
    dataset root, relative to the image folder (with or without suffix), or
    the basename without suffix.

    Args:
        dataset (dict | Dataset): the dataset to restrict.
        split_file (str): partition file; a relative path is looked up under
            the wrapped dataset's ``data_root`` (as MMSeg does for
            ``ann_file``), then in the working directory.
        with_label (bool): whether label files must exist. Set False for
            unlabeled partitions: their labels are then neither checked nor
            passed to the pipeline. Defaults to True.
        lazy_init (bool): defer matching until first use. Defaults to False.
    """

    def __init__(self,
                 dataset,
                 split_file: str,
                 with_label: bool = True,
                 lazy_init: bool = False):
        self.dataset = build_seg_dataset(
            dataset,
            f'PartitionDataset({split_file!r}).dataset') if isinstance(
                dataset, dict) else dataset
        self.split_file = split_file
        self.with_label = with_label
        self._leaves = None
        self._samples: List[Tuple[int, Optional[str]]] = []
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        return self.dataset.metainfo

    def _resolve_split_file(self, data_root: Optional[str]) -> str:
        """Absolute paths as given; relative ones under ``data_root`` first,
        then in the working directory."""
        path = self.split_file
        if osp.isabs(path) or not data_root:
            return path
        under_root = osp.join(data_root, path)
        if osp.exists(under_root) or not osp.exists(path):
            return under_root
        return path

    def _index(self) -> Dict[str, List[int]]:
        """Map every accepted spelling of each sample's image to its index."""
        keys: Dict[str, List[int]] = {}
        for leaf, offset in self._leaves:
            root = leaf.data_root or ''
            img_dir = leaf.data_prefix.get('img_path', '') or ''
            suffix = getattr(leaf, 'img_suffix', '')
            for i in range(len(leaf)):
                img_path = leaf.get_data_info(i)['img_path']
                rel_dir = osp.relpath(img_path, img_dir) if img_dir else \
                    osp.basename(img_path)
                spellings = {
                    osp.normpath(osp.relpath(img_path, root))
                    if root else img_path, rel_dir,
                    _strip_suffix(rel_dir, suffix),
                    _strip_suffix(osp.basename(img_path), suffix),
                    osp.splitext(osp.basename(img_path))[0]
                }
                for key in spellings:
                    keys.setdefault(key, []).append(offset + i)
        return keys

    def full_init(self):
        """Build the wrapped dataset and match the partition against it."""
        if self._fully_initialized:
            return
        self.dataset.full_init()
        self._leaves = _leaves(self.dataset)
        data_root = self._leaves[0][0].data_root
        split_file = self._resolve_split_file(data_root)
        entries = read_partition(split_file)
        keys = self._index()
        samples = []
        for entry in entries:
            where = f'{split_file}:{entry.line}'
            hits = keys.get(entry.image, [])
            if not hits:
                raise DataError(f'{where}: image {entry.image!r} is not in '
                                'the dataset: ' +
                                self._explain_missing(entry.image))
            if len(set(hits)) > 1:
                raise DataError(f'{where}: {entry.image!r} matches '
                                f'{len(set(hits))} images; write its path '
                                'relative to the dataset root')
            index = hits[0]
            leaf, _ = self._locate(index)
            info = self.get_wrapped_info(index)
            if not osp.isfile(info['img_path']):
                raise DataError(f'{where}: image file ' + missing_file_message(
                    info['img_path'], getattr(leaf, 'img_suffix', ''),
                    'img_suffix'))
            label = None
            if self.with_label:
                label = info.get('seg_map_path')
                suffix = getattr(leaf, 'seg_map_suffix', '')
                if entry.label is not None:
                    label, suffix = osp.join(data_root or '', entry.label), ''
                if label is None or not osp.isfile(label):
                    missing = missing_file_message(
                        label, suffix, 'seg_map_suffix') if label else 'None'
                    raise DataError(
                        f'{where}: label file of {entry.image!r}: {missing}.'
                        ' (An unlabeled partition needs with_label=False.)')
            samples.append((index, label))
        self._samples = samples
        self._fully_initialized = True

    def _explain_missing(self, image: str) -> str:
        """The file that ``image`` of the partition names, and why it did
        not match: it does not exist, or only under another suffix."""
        leaf = self._leaves[0][0]
        suffix = getattr(leaf, 'img_suffix', None)
        if suffix is None:  # not an MMSeg dataset: no folder to look into
            return (f'{type(self.dataset).__name__} under '
                    f'{leaf.data_root!r} does not list it')
        img_dir = leaf.data_prefix.get('img_path') or leaf.data_root or ''
        name = image if image.endswith(suffix) else image + suffix
        path = osp.normpath(osp.join(leaf.data_root or '', name))
        if not path.startswith(osp.normpath(img_dir) + osp.sep):
            path = osp.join(img_dir, name)  # written relative to img_dir
        return (missing_file_message(path, suffix, 'img_suffix') +
                '; check that the split belongs to this dataset')

    def _locate(self, index: int) -> Tuple[BaseDataset, int]:
        for leaf, offset in reversed(self._leaves):
            if index >= offset:
                return leaf, index - offset
        raise IndexError(index)

    def get_wrapped_info(self, index: int) -> dict:
        leaf, local = self._locate(index)
        return leaf.get_data_info(local)

    def get_data_info(self, idx: int) -> dict:
        """Data info of the ``idx``-th partition sample (label path fixed)."""
        if not self._fully_initialized:
            self.full_init()
        index, label = self._samples[idx]
        info = self.get_wrapped_info(index)
        if self.with_label:
            info['seg_map_path'] = label
        else:
            info.pop('seg_map_path', None)
        return info

    def __getitem__(self, idx: int) -> dict:
        leaf, _ = self._locate(self._samples[idx][0])
        return leaf.pipeline(self.get_data_info(idx))

    def __len__(self) -> int:
        if not self._fully_initialized:
            self.full_init()
        return len(self._samples)


def split_labeled(lines: List[str], num_labeled: int,
                  seed: int) -> Tuple[List[str], List[str]]:
    """Draw a labeled subset of ``lines``; the rest is the unlabeled set.

    The draw depends only on ``seed`` and the set of lines (they are sorted
    first), and a smaller labeled set drawn with the same seed is a prefix of
    a larger one, so partitions are nested (1/16 inside 1/8 inside 1/4).

    Args:
        lines (list[str]): one entry per sample, in either partition format.
        num_labeled (int): size of the labeled set, 1 <= n <= len(lines).
        seed (int): random seed.

    Returns:
        tuple[list[str], list[str]]: labeled and unlabeled entries, sorted.
    """
    pool = sorted(set(lines))
    if not 1 <= num_labeled <= len(pool):
        raise ValueError(f'num_labeled must be in [1, {len(pool)}], got '
                         f'{num_labeled}')
    order = list(pool)
    random.Random(seed).shuffle(order)
    labeled = set(order[:num_labeled])
    return sorted(labeled), [x for x in pool if x not in labeled]
