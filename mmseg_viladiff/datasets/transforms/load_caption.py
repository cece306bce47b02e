"""Attach each image's caption, from the JSONL cache, to its data sample."""
import os
import os.path as osp
from typing import Dict, Tuple

from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from ...captioning.caption_file import image_key, read_captions
from ...utils.errors import ConfigError, DataError

#: what ``LoadCaption`` does with an image that has no caption
ON_MISSING = ('error', 'empty', 'skip')

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

    Required keys: ``img_path`` (None for an in-memory image, which has no
    caption). Added keys: ``caption`` (str).

    Args:
        cache_file (str): caption file; a relative path not found as given
            is looked up under ``data_root`` (as partition files are).
        data_root (str): the dataset's data root, which cache keys are
            relative to.
        on_missing (str): an image without caption raises a
            :class:`DataError` (``'error'``, default: training, where every
            image needs one), gets ``''`` (``'empty'``), or is left without
            ``caption`` (``'skip'``, also when the cache file does not
            exist: test pipelines, so that ``mmseg.apis.inference_model``
            runs on any image; only a model that reads captions, e.g.
            ``VLFusionNeck`` with ``infer_mode='caption'``, then fails, naming
            the image).

    Example:
        >>> dict(type='LoadCaption', cache_file='captions.jsonl',
        ...      data_root='data/camvid', on_missing='error')
    """

    def __init__(self,
                 cache_file: str,
                 data_root: str,
                 on_missing: str = 'error') -> None:
        if on_missing not in ON_MISSING:
            raise ConfigError(f'LoadCaption: on_missing must be one of '
                              f'{ON_MISSING}, got {on_missing!r}')
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
        cache_file = self.resolved_cache_file
        if results.get('img_path') is None:
            if self.on_missing == 'error':
                raise DataError(
                    'LoadCaption: an image without img_path (in memory) '
                    f'has no caption in {cache_file}; load images with '
                    "LoadImageFromFile, or set on_missing='skip' or "
                    "'empty'")
            caption = None
        elif self.on_missing == 'skip' and not osp.exists(cache_file):
            caption = None
        else:
            caption = load_caption_table(cache_file).get(
                image_key(results['img_path'], self.data_root))
        if caption is None:
            if self.on_missing == 'skip':
                return results
            if self.on_missing == 'error':
                key = image_key(results['img_path'], self.data_root)
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
