"""Stop on a mask whose values are not classes, naming the mask file."""
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from ...utils.constants import IGNORE_INDEX
from ...utils.errors import DataError


@TRANSFORMS.register_module()
class CheckSegLabels(BaseTransform):
    """Check that a loaded mask holds only class indices and the ignore index.

    Without this check a value outside ``0..num_classes-1`` (say 7 in a
    3-class dataset, or a colour mask) crashes the loss far from its cause
    (``Target 7 is out of bounds`` on CPU, a device-side assert on CUDA),
    and in evaluation it is silently dropped from the IoU. Place it right
    after ``LoadAnnotations`` of the labeled training and the test
    pipelines; it reads ``gt_seg_map`` after MMSeg's ``reduce_zero_label``
    and ``label_map``. Cost: one comparison over the mask; leave the
    transform out of the pipeline to skip it.

    Required keys: ``gt_seg_map``, ``seg_map_path``. Modified keys: none.

    Args:
        num_classes (int): K; valid values are ``0..K-1`` and
            ``ignore_index``.
        ignore_index (int): the ignored label. Defaults to 255.

    Raises:
        DataError: (when called) the mask is not one-channel, or holds
            other values; the message names the mask file and the values
            (also as stored on disk when ``reduce_zero_label`` shifted them).
    """

    def __init__(self, num_classes: int, ignore_index: int = IGNORE_INDEX):
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(
                f'num_classes must be a positive int, got {num_classes!r}')
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> dict:
        label = results['gt_seg_map']
        path = results.get('seg_map_path')
        if label.ndim != 2:
            raise DataError(
                f'mask {path} has shape {label.shape}: masks must be '
                'one-channel images of class indices, not colour images')
        bad = (label >= self.num_classes) & (label != self.ignore_index)
        if not bad.any():  # the cheap path: one comparison
            return results
        values = np.unique(label[bad]).tolist()
        shown = values[:10] + (['...'] if len(values) > 10 else [])
        msg = (f'mask {path} holds label values {shown} outside the '
               f'{self.num_classes} classes (valid: 0..{self.num_classes - 1}'
               f' and {self.ignore_index} = ignore)')
        if results.get('reduce_zero_label') and not results.get('label_map'):
            on_disk = [v + 1 for v in values[:10]]
            msg += (f'; on disk these are {on_disk} (reduce_zero_label=True '
                    'ignores 0 and shifts the other values down by 1)')
        else:
            msg += ('; if 0 marks unlabeled pixels and the classes are '
                    '1..K, set reduce_zero_label=True')
        raise DataError(msg + '. Check that `classes` lists every class')

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index})')
