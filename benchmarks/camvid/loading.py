"""A finished run of a row, loaded back for analysis: its dumped config,
its best checkpoint in the model, and one of its datasets."""
import os
import os.path as osp
from typing import Callable, Iterator, NamedTuple, Optional

from .errors import BenchmarkError
from .outputs import best_checkpoint
from .paths import ROOT, default_work_dir


class LoadedRun(NamedTuple):
    """What :func:`load_run` returns (the model in eval mode)."""
    cfg: object
    dataset: object
    model: object
    dumped: str
    checkpoint: str
    checkpoint_iter: int


def load_run(row: str, seed: int, work_dir: Optional[str],
             dataset_cfg: Callable[[object], dict]) -> LoadedRun:
    """Load the run of ``row`` and ``seed`` (``work_dir`` or the default
    one): the config it dumped, the model with its best checkpoint, and the
    dataset ``dataset_cfg(cfg)`` describes.

    Raises:
        BenchmarkError: the run's dumped config is not there (the row has
            not been run), naming the command that runs it.
    """
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    from mmseg.registry import DATASETS, MODELS

    import mmseg_viladiff  # noqa: F401  (registers modules, safe globals)

    work_dir = osp.abspath(work_dir or default_work_dir(row, seed))
    dumped = osp.join(work_dir, f'{row}_seed{seed}.py')
    if not osp.isfile(dumped):
        raise BenchmarkError(
            f'{dumped} not found: run `python benchmarks/camvid_semi.py run '
            f'{row} --seed {seed}` first')
    ckpt, best_iter = best_checkpoint(work_dir)
    cfg = Config.fromfile(dumped)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    cwd = os.getcwd()
    os.chdir(ROOT)  # the dumped config's data paths are relative
    try:
        dataset = DATASETS.build(dataset_cfg(cfg))
        model = MODELS.build(cfg.model)
    finally:
        os.chdir(cwd)
    load_checkpoint(model, ckpt, map_location='cpu', logger='silent')
    model.eval()
    return LoadedRun(cfg, dataset, model, dumped, ckpt, best_iter)


def load_split_run(row: str, seed: int, split: str,
                   work_dir: Optional[str]) -> LoadedRun:
    """:func:`load_run` with the row's ``split`` ('val' or 'test')
    dataset, as its dataloader builds it."""
    return load_run(row, seed, work_dir,
                    lambda cfg: cfg.get(f'{split}_dataloader').dataset)


def images(run: LoadedRun) -> Iterator[dict]:
    """The run's dataset one image at a time, through the model's data
    preprocessor (inference mode): ``inputs`` (1, 3, H, W) and
    ``data_samples`` (one, with its label)."""
    from mmengine.dataset import pseudo_collate
    for i in range(len(run.dataset)):
        yield run.model.data_preprocessor(
            pseudo_collate([run.dataset[i]]), False)
