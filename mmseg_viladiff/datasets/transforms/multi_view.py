"""Pack one sample into the views (branches) of semi-supervised training."""
import copy
from typing import Dict, List, Sequence

from mmcv.transforms import BaseTransform, Compose
from mmseg.registry import TRANSFORMS

#: the branches a semi-supervised batch holds; every sample carries all of
#: them (None where it has no such view) so batches collate uniformly;
#: ``unsup_strong2``: the second strong view of UniMatch-style training
#: (``semi_train_cfg.strong_views=2``), None unless a pipeline makes it
SEMI_BRANCHES = ('sup', 'unsup_weak', 'unsup_strong', 'unsup_strong2')


@TRANSFORMS.register_module()
class MultiViewPack(BaseTransform):
    """Run a few view pipelines on copies of one sample and pack each view.

    The geometric transforms placed before this one (resize, crop, flip) are
    shared by all views, so a weak and a strong view of an unlabeled image
    cover exactly the same pixels; each view's own transforms draw their
    random parameters independently (two ``StrongPhotometricAug`` views
    get different colours, greyscale and blur). The output follows MMDetection's
    ``MultiBranch`` convention:
    ``dict(inputs=dict(branch=Tensor|None), data_samples=dict(branch=...))``.

    Args:
        views (dict[str, list[dict]]): branch name -> transforms applied to a
            copy of the sample before packing (may be empty).
        branches (Sequence[str]): all branch names of a batch; those not in
            ``views`` are None. Defaults to :data:`SEMI_BRANCHES`.
        pack (dict): the packing transform. Defaults to ``PackSegInputs``.

    Example (unlabeled pipeline tail):
        >>> dict(type='MultiViewPack', views=dict(
        ...     unsup_weak=[],
        ...     unsup_strong=[dict(type='StrongPhotometricAug')]))
    """

    def __init__(
        self,
        views: Dict[str, List[dict]],
        branches: Sequence[str] = SEMI_BRANCHES,
        pack: dict = dict(type='PackSegInputs')
    ) -> None:
        unknown = set(views) - set(branches)
        if unknown:
            raise ValueError(f'views {sorted(unknown)} are not among the '
                             f'branches {list(branches)}')
        self.views = {
            name: Compose(list(steps) + [pack])
            for name, steps in views.items()
        }
        self.branches = tuple(branches)

    def transform(self, results: dict) -> dict:
        inputs = dict.fromkeys(self.branches)
        data_samples = dict.fromkeys(self.branches)
        for name, pipeline in self.views.items():
            packed = pipeline(copy.deepcopy(results))
            inputs[name] = packed['inputs']
            data_samples[name] = packed['data_samples']
        return dict(inputs=inputs, data_samples=data_samples)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(views={list(self.views)})'
