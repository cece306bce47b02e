"""OracleCaptionFromLabel: a training crop's caption written from its own
label map — a DIAGNOSTIC that reads labels (see
:mod:`mmseg_viladiff.captioning.oracle`)."""
from typing import Sequence

from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from ...captioning.oracle import OracleCaptioner
from ...utils.errors import DataError


@TRANSFORMS.register_module()
class OracleCaptionFromLabel(BaseTransform):
    """Set ``results['caption']`` from ``results['gt_seg_map']`` as the
    preceding transforms left it.

    Oracle captions from a caption file describe the whole image: after a
    random crop and flip, a training crop's caption names classes the crop
    does not hold and puts them on the wrong side, so position words in
    training disagree with the crop the model sees. Placed after the crop
    and flip, this writes each crop's caption from the crop's own labels
    with the same :class:`~mmseg_viladiff.captioning.OracleCaptioner` the
    caption file of val and test was written with, so the words mean the
    same in training and at test. It reads labels: rows using it are
    diagnostic upper bounds, never results.

    With ``drop_label`` the label map is removed once the caption is
    written (``gt_seg_map`` and its ``seg_fields`` entry), so an unlabeled
    partition's crops get their oracle caption and nothing downstream sees
    their labels.

    Required keys: ``gt_seg_map`` (H, W), 255 ignored. Added keys:
    ``caption`` (str). Removed with ``drop_label``: ``gt_seg_map``.

    Args:
        class_names (Sequence[str]): names of the label ids, in order.
        variant (str): 'oracle' or 'oracle-regions'.
        drop_label (bool): remove the label map after captioning.
        **kwargs: the other arguments of ``OracleCaptioner``.
    """

    def __init__(self,
                 class_names: Sequence[str],
                 variant: str = 'oracle-regions',
                 drop_label: bool = False,
                 **kwargs) -> None:
        super().__init__()
        self.drop_label = drop_label
        self.captioner = OracleCaptioner(class_names, variant, **kwargs)

    def transform(self, results: dict) -> dict:
        if 'gt_seg_map' not in results:
            raise DataError(
                f"{results.get('img_path')}: OracleCaptionFromLabel needs the "
                'label map; put it after LoadAnnotations (and after the '
                'crop and flip)')
        results['caption'] = self.captioner.caption_seg(results['gt_seg_map'])
        if self.drop_label:
            del results['gt_seg_map']
            if 'gt_seg_map' in results.get('seg_fields', []):
                results['seg_fields'].remove('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(variant='
                f'{self.captioner.variant!r}, drop_label={self.drop_label})')
