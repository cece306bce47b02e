"""Paint test predictions without touching the training data."""
import os.path as osp
from typing import Sequence

import mmcv
from mmengine import fileio
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.registry import HOOKS
from mmseg.structures import SegDataSample


@HOOKS.register_module()
class PredictionVisualizationHook(SegVisualizationHook):
    """``SegVisualizationHook`` that also works when only test data exists.

    MMSeg's hook tags each painting with ``runner.iter``, which builds the
    training loop and so the training dataset, even in ``tools/test.py``. This
    hook uses the training iteration only while training is under way (for
    validation) and the batch index otherwise. Arguments are the parent's.
    """

    def _after_iter(self,
                    runner,
                    batch_idx: int,
                    data_batch: dict,
                    outputs: Sequence[SegDataSample],
                    mode: str = 'val') -> None:
        if self.draw is False or mode == 'train':
            return
        if not self.every_n_inner_iters(batch_idx, self.interval):
            return
        training = getattr(runner, '_train_loop', None) is not None and \
            not isinstance(runner._train_loop, dict)
        step = runner.iter if training else batch_idx
        for output in outputs:
            img_bytes = fileio.get(
                output.img_path, backend_args=self.backend_args)
            img = mmcv.imfrombytes(img_bytes, channel_order='rgb')
            self._visualizer.add_datasample(
                f'{mode}_{osp.basename(output.img_path)}',
                img,
                data_sample=output,
                show=self.show,
                wait_time=self.wait_time,
                step=step)
