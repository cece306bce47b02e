"""Validate both the teacher and the student of a semi-supervised model."""
from typing import Dict

from mmengine.model import is_model_wrapper
from mmengine.runner import ValLoop
from mmseg.registry import LOOPS

from ...datasets.file_checks import build_seg_dataset, check_seg_files


@LOOPS.register_module()
class TeacherStudentValLoop(ValLoop):
    """``ValLoop`` that evaluates the teacher, then the student.

    Metrics come out prefixed ``teacher/`` and ``student/`` (e.g.
    ``teacher/mIoU``), so ``CheckpointHook(save_best='teacher/mIoU')`` keys
    best-checkpoint selection on either model. The model's
    ``semi_test_cfg.predict_on`` is restored afterwards. Arguments are
    ``ValLoop``'s.

    It is built before training starts, and checks then that the
    validation dataset found its images and masks (:func:`check_seg_files`),
    so that a wrong suffix stops the run at once with a message naming the
    folder or file, instead of at the first validation.
    """

    def __init__(self, runner, dataloader, evaluator, fp16=False) -> None:
        where = 'val_dataloader.dataset'
        if isinstance(dataloader, dict) and isinstance(
                dataloader.get('dataset'), dict):
            dataloader = dict(
                dataloader,
                dataset=build_seg_dataset(dataloader['dataset'], where))
        super().__init__(runner, dataloader, evaluator, fp16)
        check_seg_files(self.dataloader.dataset, where)

    def run(self) -> Dict[str, float]:
        runner = self.runner
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if not hasattr(model, 'semi_test_cfg'):
            raise TypeError('TeacherStudentValLoop needs a semi-supervised '
                            f'model, got {type(model).__name__}')
        runner.call_hook('before_val')
        runner.call_hook('before_val_epoch')
        runner.model.eval()
        original = model.semi_test_cfg['predict_on']
        metrics = {}
        try:
            for name in ('teacher', 'student'):
                model.semi_test_cfg['predict_on'] = name
                for idx, data_batch in enumerate(self.dataloader):
                    self.run_iter(idx, data_batch)
                results = self.evaluator.evaluate(len(self.dataloader.dataset))
                metrics.update({f'{name}/{k}': v for k, v in results.items()})
        finally:
            model.semi_test_cfg['predict_on'] = original
        runner.call_hook('after_val_epoch', metrics=metrics)
        runner.call_hook('after_val')
        return metrics
