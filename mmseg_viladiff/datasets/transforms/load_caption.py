"""Attach each image's caption, from the JSONL cache, to its data sample."""
import os
import os.path as osp
from typing import Dict, Tuple

from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from ...captioning.caption_file import image_key, read_captions
from ...utils.errors import ConfigError, DataError

#: per process: absolute path -> ((mtime_ns, size), {image key: caption})
_CACHE: Dict[str, Tuple[Tuple[int, int], Dict[str, str]]] = {}


def load_caption_table(path: str) -> Dict[str, str]:
    """``{image key: caption}`` of a caption file, read once per process
    and read again only when the file changes (mtime or size).

    Args:
        path (str): JSONL caption file (see
            :mod:`mmseg_viladiff.captioning.caption_file`).

    Returns:
        dict[str, str]: captions by image key.
    """
    path = osp.abspath(path)
    try:
        stat = os.stat(path)
    except OSError:
        raise DataError(
            f'caption file not found: {path}; write it with `python '
            'tools/generate_captions.py CONFIG --out FILE`') from None
    version = (stat.st_mtime_ns, stat.st_size)
    cached = _CACHE.get(path)
    if cached is None or cached[0] != version:
        table = {k: r['caption'] for k, r in read_captions(path).items()}
        _CACHE[path] = cached = (version, table)
    return cached[1]


@TRANSFORMS.register_module()
class LoadCaption(BaseTransform):
    """Set ``results['caption']`` from a caption cache.

    The cache is the JSONL file written by ``tools/generate_captions.py``
    (or by the synthetic dataset generator), keyed by the image path
    relative to ``data_root``. Add ``'caption'`` to ``PackSegInputs``'
    ``meta_keys`` to pass it on to the model.

    Required keys: ``img_path``. Added keys: ``caption`` (str).

    Args:
        cache_file (str): caption file; a relative path not found as given
            is looked up under ``data_root`` (as partition files are).
        data_root (str): the dataset's data root, which cache keys are
            relative to.
        on_missing (str): an image without caption raises a
            :class:`DataError` (``'error'``, default) or gets ``''``
            (``'empty'``).

    Example:
        >>> dict(type='LoadCaption', cache_file='captions.jsonl',
        ...      data_root='data/camvid', on_missing='error')
    """

    def __init__(self,
                 cache_file: str,
                 data_root: str,
                 on_missing: str = 'error') -> None:
        if on_missing not in ('error', 'empty'):
            raise ConfigError(f"LoadCaption: on_missing must be 'error' or "
                              f"'empty', got {on_missing!r}")
        self.cache_file = cache_file
        self.data_root = data_root
        self.on_missing = on_missing

    @property
    def resolved_cache_file(self) -> str:
        """``cache_file`` as given if it exists or is absolute, else under
        ``data_root``."""
        path = self.cache_file
        if osp.isabs(path) or osp.exists(path):
            return path
        return osp.join(self.data_root, path)

    def transform(self, results: dict) -> dict:
        if results.get('img_path') is None:
            raise DataError('LoadCaption needs results["img_path"] (load '
                            'images with LoadImageFromFile)')
        cache_file = self.resolved_cache_file
        key = image_key(results['img_path'], self.data_root)
        caption = load_caption_table(cache_file).get(key)
        if caption is None:
            if self.on_missing == 'error':
                hint = ''
                if key.startswith('../'):
                    hint = (f' (the image lies outside LoadCaption\'s '
                            f'data_root {self.data_root!r}: set it to the '
                            'dataset\'s data_root)')
                raise DataError(
                    f'no caption for image {key!r} ({results["img_path"]}) '
                    f'in {cache_file}{hint}; generate the missing captions '
                    'with `python tools/generate_captions.py CONFIG --out '
                    f'{cache_file}` (it skips those already there), or set '
                    "on_missing='empty'")
            caption = ''
        results['caption'] = caption
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(cache_file={self.cache_file!r}, '
                f'data_root={self.data_root!r}, '
                f'on_missing={self.on_missing!r})')
