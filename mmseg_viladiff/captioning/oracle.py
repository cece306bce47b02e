"""Oracle captions written from ground-truth label maps — a DIAGNOSTIC.

*** These captions read the labels of every image they caption, the
*** unlabeled training images and the val/test images included. A model
*** trained or evaluated with them has seen labels it must not see: its
*** numbers are an upper bound on what informative text could give, never
*** a result of the method.

What they are for (issue 18): the template captions of the CamVid rows
restate what a segmentation model already predicts, so a row trained with
them cannot tell whether the vision-language fusion can use text at all.
Oracle captions carry information the image model does not have; if a
model does not gain from them, either the fusion cannot use text or the
text carries too little. Two variants, written into every record's
``captioner`` field so results say which:

* ``'oracle'``: the classes present, largest first, each with a size word
  (large / medium / small share of the labelled pixels) and a position
  word from where its pixels lie in a 3x3 grid (``'large road at the
  bottom, small pole across the image, ...'``).
* ``'oracle-regions'``: what presence cannot say on street scenes that
  mostly share one class set: the classes of each cell of a
  ``grid x grid`` grid (``'top left: sky, building.'``) and the number of
  connected components of the small classes (``'counts: 3 pole, 1
  pedestrian.'``).
"""
import warnings
from typing import List, Sequence, Tuple

import numpy as np

from ..utils.constants import IGNORE_INDEX
from ..utils.errors import ConfigError, DataError
from .captioners import BACKGROUND_NAMES

#: the oracle variants (record field ``captioner``)
ORACLE_VARIANTS = ('oracle', 'oracle-regions')

#: the warning every OracleCaptioner gives when built
ORACLE_WARNING = (
    'OracleCaptioner writes captions from ground-truth label maps: it reads '
    'the labels of unlabeled and test images. A diagnostic upper bound, '
    'never a result; report it as "oracle captions (diagnostic, reads '
    'labels)".')

#: size words by share of the image's labelled pixels (at least ...)
SIZE_WORDS = ((0.25, 'large'), (0.05, 'medium'), (0.0, 'small'))
ROW_WORDS = ('top', 'middle', 'bottom')
COLUMN_WORDS = ('left', 'center', 'right')


def read_label_map(item) -> np.ndarray:
    """The label map of an :class:`~.image_sources.ImageItem` as training
    sees it (MMSeg's ``LoadAnnotations``: ``reduce_zero_label`` and the
    dataset's ``label_map`` applied; ignored pixels 255).

    Raises:
        DataError: the item has no label path, or the file is unreadable.
    """
    if not item.seg_path:
        raise DataError(f'{item.key}: no label map to caption from (oracle '
                        'captions need a config whose datasets have labels)')
    from mmseg.datasets.transforms import LoadAnnotations
    results = dict(
        seg_map_path=item.seg_path,
        reduce_zero_label=item.reduce_zero_label,
        label_map=dict(item.label_map) if item.label_map else None,
        seg_fields=[])
    try:
        return LoadAnnotations()(results)['gt_seg_map']
    except (OSError, ValueError, AttributeError) as e:
        raise DataError(f'cannot read label map {item.seg_path}: {e}') \
            from None


def _position(rows: np.ndarray, cols: np.ndarray) -> str:
    """Where a class lies, from its pixel shares per grid row and column
    third: a third holding >= 60% of them names it; spread out otherwise."""
    row = ROW_WORDS[int(rows.argmax())] if rows.max() >= 0.6 else None
    col = COLUMN_WORDS[int(cols.argmax())] if cols.max() >= 0.6 else None
    if row is None and col is None:
        return 'across the image'
    if row is None:
        return 'in the center' if col == 'center' else f'on the {col}'
    if col is None:
        return 'across the middle' if row == 'middle' else f'at the {row}'
    if row == 'middle':
        return 'in the center' if col == 'center' else f'on the {col}'
    return f'at the {row}' if col == 'center' else f'at the {row} {col}'


def _thirds(mask: np.ndarray, axis: int) -> np.ndarray:
    """Share of ``mask``'s pixels in each third along ``axis`` (3,)."""
    sums = mask.sum(axis=1 - axis).astype(np.float64)  # (H,) or (W,)
    parts = np.array([p.sum() for p in np.array_split(sums, 3)])
    return parts / max(parts.sum(), 1)


class OracleCaptioner:
    """Captions from ground-truth label maps (DIAGNOSTIC, reads labels).

    See the module docstring: captions written by this class read the
    labels of the images they describe, unlabeled and test images
    included, so every number obtained with them is an upper bound, never
    a result. Building one warns (``UserWarning`` and the log).

    Unlike the image captioners it takes the images' label maps:
    ``caption_items`` reads each :class:`~.image_sources.ImageItem`'s
    ``seg_path`` (``images_from_config(..., with_labels=True)`` fills it).

    Args:
        class_names (Sequence[str]): names of the label ids, in order.
        variant (str): 'oracle' (presence, size and position) or
            'oracle-regions' (classes per grid cell and counts of small
            objects); see :data:`ORACLE_VARIANTS`.
        min_area (float): smallest share of the labelled pixels, in [0, 1),
            for a class to be named. Defaults to 0 (every class present).
        grid (int): 'oracle-regions': cells per side. Defaults to 3.
        min_cell_share (float): 'oracle-regions': smallest share of a
            cell's labelled pixels for a class to be listed in it.
            Defaults to 0.02.
        small_share (float): 'oracle-regions': classes below this share
            of the labelled pixels are counted. Defaults to 0.05.
        min_component (float): 'oracle-regions': smallest component
            counted, as a share of the image's pixels. Defaults to 0.0002
            (35 pixels at 480x360).
        ignore_classes (Sequence[str]): names never written. Defaults to
            :data:`~.captioners.BACKGROUND_NAMES`.
    """

    def __init__(self,
                 class_names: Sequence[str],
                 variant: str = 'oracle',
                 min_area: float = 0.0,
                 grid: int = 3,
                 min_cell_share: float = 0.02,
                 small_share: float = 0.05,
                 min_component: float = 0.0002,
                 ignore_classes: Sequence[str] = BACKGROUND_NAMES) -> None:
        if variant not in ORACLE_VARIANTS:
            raise ConfigError(f'oracle variant must be one of '
                              f'{ORACLE_VARIANTS}, got {variant!r}')
        if not class_names:
            raise ConfigError('OracleCaptioner needs the class names')
        for key, value in (('min_area', min_area), ('min_cell_share',
                                                    min_cell_share),
                           ('small_share', small_share), ('min_component',
                                                          min_component)):
            if not 0 <= value < 1:
                raise ConfigError(f'{key} must be in [0, 1), got {value}')
        if grid < 1:
            raise ConfigError(f'grid must be >= 1, got {grid}')
        warnings.warn(ORACLE_WARNING, UserWarning, stacklevel=2)
        from mmengine.logging import print_log
        print_log(ORACLE_WARNING, 'current', level=30)  # logging.WARNING
        self.class_names = tuple(class_names)
        self.variant = variant
        self.name = variant
        self.min_area = min_area
        self.grid = grid
        self.min_cell_share = min_cell_share
        self.small_share = small_share
        self.min_component = min_component
        self.ignore_classes = {n.lower() for n in ignore_classes}
        settings = f'min_area={min_area}'
        if variant == 'oracle-regions':
            settings += (f', grid={grid}, min_cell_share={min_cell_share}, '
                         f'small_share={small_share}, '
                         f'min_component={min_component}')
        # recorded with every caption (resuming checks it is unchanged)
        self.model_id = f'ground-truth labels ({settings})'
        self.prompt = None

    # ------------------------------------------------------------------
    def _named(self, counts: np.ndarray, total: int) -> List[int]:
        """Class ids to write, by decreasing area (ties by id)."""
        order = sorted(range(len(counts)), key=lambda c: (-counts[c], c))
        named = []
        for c in order:
            if counts[c] == 0 or counts[c] < self.min_area * total:
                continue
            if self.class_names[c].lower() not in self.ignore_classes:
                named.append(c)
        return named

    def _counts(self, seg: np.ndarray) -> Tuple[np.ndarray, int]:
        valid = seg[seg != IGNORE_INDEX].astype(np.int64)
        counts = np.bincount(valid, minlength=len(self.class_names))
        if len(counts) > len(self.class_names):
            raise DataError(f'label {len(counts) - 1} found, but only '
                            f'{len(self.class_names)} class names are given')
        return counts, int(valid.size)

    def present_classes(self, seg: np.ndarray) -> List[str]:
        """Names of the classes the label map holds (>= ``min_area``),
        largest first."""
        counts, total = self._counts(seg)
        return [self.class_names[c] for c in self._named(counts, total)]

    def presence_caption(self, seg: np.ndarray) -> str:
        """'oracle': each class with a size and a position word."""
        counts, total = self._counts(seg)
        parts = []
        for c in self._named(counts, total):
            share = counts[c] / max(total, 1)
            size = next(word for low, word in SIZE_WORDS if share >= low)
            mask = seg == c
            where = _position(_thirds(mask, 0), _thirds(mask, 1))
            parts.append(f'{size} {self.class_names[c]} {where}')
        if not parts:
            return 'an image with no labelled class.'
        return 'an image showing ' + ', '.join(parts) + '.'

    def _cell_names(self, cell: np.ndarray) -> List[str]:
        counts, total = self._counts(cell)
        order = [
            c for c in self._named(counts, total)
            if counts[c] >= self.min_cell_share * total
        ]
        return [self.class_names[c] for c in order]

    def component_counts(self, seg: np.ndarray) -> List[Tuple[str, int]]:
        """(name, connected components of at least ``min_component`` of
        the image) of each named class below ``small_share``, by class
        id; 8-connectivity."""
        import cv2
        counts, total = self._counts(seg)
        min_pixels = max(1, int(round(self.min_component * seg.size)))
        out = []
        for c in sorted(self._named(counts, total)):
            if counts[c] >= self.small_share * total:
                continue
            n, _, stats, _ = cv2.connectedComponentsWithStats(
                (seg == c).astype(np.uint8), connectivity=8)
            found = int((stats[1:, cv2.CC_STAT_AREA] >= min_pixels).sum())
            if found:
                out.append((self.class_names[c], found))
        return out

    def regions_caption(self, seg: np.ndarray) -> str:
        """'oracle-regions': classes per grid cell, then the counts."""
        h, w = seg.shape
        rows = np.array_split(np.arange(h), self.grid)
        cols = np.array_split(np.arange(w), self.grid)
        parts = []
        for r, row in enumerate(rows):
            for c, col in enumerate(cols):
                names = self._cell_names(seg[row[0]:row[-1] + 1,
                                             col[0]:col[-1] + 1])
                if names:
                    parts.append(f'{self._cell_word(r, c)}: '
                                 f'{", ".join(names)}.')
        counts = self.component_counts(seg)
        if counts:
            listed = ', '.join(f'{n} {name}' for name, n in counts)
            parts.append(f'counts: {listed}.')
        return ' '.join(parts) if parts else 'an image with no labelled class.'

    def _cell_word(self, r: int, c: int) -> str:
        if self.grid == 3:
            return f'{ROW_WORDS[r]} {COLUMN_WORDS[c]}'
        return f'cell {r + 1}-{c + 1}'

    def caption_seg(self, seg: np.ndarray) -> str:
        """The caption of one label map (H, W), 255 ignored."""
        if self.variant == 'oracle':
            return self.presence_caption(seg)
        return self.regions_caption(seg)

    def caption_items(self, items: Sequence) -> List[str]:
        """Captions of a batch of images from their label maps.

        Args:
            items (Sequence[ImageItem]): with ``seg_path`` set.

        Returns:
            list[str]: one caption per item.
        """
        return [self.caption_seg(read_label_map(item)) for item in items]

    def caption(self, images) -> List[str]:
        raise ConfigError('OracleCaptioner captions label maps, not images: '
                          'call caption_items with ImageItems that have '
                          'seg_path (images_from_config(..., '
                          'with_labels=True))')
