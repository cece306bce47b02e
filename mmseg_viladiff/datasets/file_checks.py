"""Say why a segmentation dataset found no images or masks, naming files.

MMSeg's ``BaseSegDataset`` lists the files of ``img_dir`` that end with
``img_suffix`` and expects each mask at ``ann_dir/<name><seg_map_suffix>``.
A wrong image suffix therefore gives an empty file list, on which MMSeg
fails with ``ValueError: need at least one array to concatenate``; a wrong
mask suffix gives mask paths that do not exist, found only when a mask is
loaded (for the validation set: after training). These helpers turn both
into one message that names the folder or file, the suffix in use and what
is there instead. They list folders only when something is already wrong.
"""
import glob
import os
import os.path as osp
from collections import Counter
from typing import List

from mmseg.registry import DATASETS

from ..utils.errors import DataError


def _files_under(folder: str) -> List[str]:
    """Paths of all files under ``folder``, relative to it, sorted."""
    found = []
    for parent, _, names in os.walk(folder):
        found += [
            osp.relpath(osp.join(parent, name), folder) for name in names
        ]
    return sorted(found)


def describe_folder(folder: str, suffix: str) -> str:
    """Why no file of ``folder`` (searched recursively) ends in ``suffix``.

    Args:
        folder (str): the image (or mask) folder.
        suffix (str): the suffix that matched nothing, e.g. ``'.jpg'``.

    Returns:
        str: e.g. ``"no file under 'data/x/img_dir/train' ends with '.jpg';
        it holds 8 files ending '.png' (e.g. 'a.png')"``.
    """
    if not osp.isdir(folder):
        return f'the folder {folder!r} does not exist'
    files = _files_under(folder)
    if not files:
        return f'the folder {folder!r} is empty'
    exts = Counter(osp.splitext(f)[1] or '(no extension)' for f in files)
    held = ', '.join(f'{n} files ending {ext!r}'
                     for ext, n in exts.most_common(3))
    return (f'no file under {folder!r} ends with {suffix!r}; it holds '
            f'{held} (e.g. {files[0]!r})')


def same_stem_files(path: str, suffix: str) -> List[str]:
    """Files next to the missing ``path`` that share its name up to
    ``suffix`` (``a.png`` missing: ``a.jpg``, ``a_mask.png``), at most 3."""
    stem = path[:-len(suffix)] if suffix and path.endswith(suffix) else path
    stem = osp.splitext(stem)[0] if stem == path else stem
    hits = sorted(glob.glob(glob.escape(stem) + '*'))
    # 'a.jpg', 'a_mask.png', not 'a1.png'
    hits = [
        p for p in hits
        if p != path and len(p) > len(stem) and not p[len(stem)].isalnum()
    ]
    return [osp.basename(p) for p in hits][:3]


def missing_file_message(path: str, suffix: str, key: str) -> str:
    """``"<path> does not exist"``, plus the look-alike files found next to
    it and the config key (``img_suffix``/``seg_map_suffix``) to change."""
    msg = f'{path} does not exist'
    others = same_stem_files(path, suffix)
    if others:
        msg += f'; found {", ".join(map(repr, others))} there instead'
        msg += f' ({key} is {suffix!r})' if suffix else ''
    return msg


def _no_images(dataset, where: str) -> DataError:
    """The error for a dataset that listed no image."""
    what = f'{where} ({type(dataset).__name__}) found no images: '
    if dataset.ann_file and osp.isfile(dataset.ann_file):
        return DataError(what + f'{dataset.ann_file} lists none')
    folder = dataset.data_prefix.get('img_path') or ''
    return DataError(what + describe_folder(folder, dataset.img_suffix) +
                     '. Set img_suffix to the end of your image file names')


def build_seg_dataset(cfg: dict, where: str):
    """``DATASETS.build(cfg)``, with a clear error for an empty dataset.

    MMSeg's ``BaseSegDataset`` fails on an empty file list with
    ``ValueError: need at least one array to concatenate`` (from
    serialising it). On a ``ValueError`` the dataset is built again
    without loading (``lazy_init``) and, if it indeed lists no image, the
    error names the folder, the suffix and the files found there;
    otherwise the original error is raised.

    Args:
        cfg (dict): dataset config.
        where (str): what the dataset is, for messages.

    Returns:
        Dataset: the built dataset.
    """
    try:
        return DATASETS.build(cfg)
    except ValueError as error:
        try:
            lazy = DATASETS.build(dict(cfg, lazy_init=True))
            empty = hasattr(lazy, 'img_suffix') and not lazy.load_data_list()
        except Exception:  # not diagnosable here: keep the original error
            empty = False
        if empty:
            raise _no_images(lazy, where) from error
        raise


def check_seg_files(dataset, where: str) -> None:
    """Check that a built MMSeg dataset found images and their masks.

    One ``isfile`` per sample; folders are listed only on failure.

    Args:
        dataset (BaseSegDataset): a fully initialised dataset (datasets
            without ``img_suffix``, e.g. wrappers, are skipped).
        where (str): what the dataset is, for messages (e.g.
            ``'val_dataloader.dataset'``).

    Raises:
        DataError: no image was found (names the folder, ``img_suffix`` and
            the files there), or a mask file is missing (names it and
            ``seg_map_suffix``).
    """
    if not hasattr(dataset, 'img_suffix'):
        return
    if len(dataset) == 0:
        raise _no_images(dataset, where)
    for i in range(len(dataset)):
        mask = dataset.get_data_info(i).get('seg_map_path')
        if mask and not osp.isfile(mask):
            raise DataError(f'{where} ({type(dataset).__name__}): mask ' +
                            missing_file_message(mask, dataset.seg_map_suffix,
                                                 'seg_map_suffix'))
