"""Caption a list of images into a JSONL cache: batched, resumable, sharded.

A run skips the images its output already holds and appends the others
batch by batch (:class:`~.caption_file.CaptionWriter` syncs each batch), so
a killed run loses at most one batch and the same command finishes it.
Shard ``i`` of ``n`` takes images ``[i::n]`` of the key-sorted list and
writes ``OUT.shard-i-of-n.jsonl``; :func:`merge_shards` merges the shard
files (and ``OUT`` itself, if present) into ``OUT``, checks that every
image is captioned, and removes the shard files.
"""
import glob
import os
import os.path as osp
import re
import time
import warnings
from typing import Dict, List, Optional, Sequence, Set, Tuple

from PIL import Image

from ..utils.errors import ConfigError, DataError
from .caption_file import (CaptionWriter, make_record, merge_captions,
                           read_captions)
from .image_sources import ImageItem


def parse_shard(text: str) -> Tuple[int, int]:
    """``'i/n'`` -> ``(i, n)`` with ``0 <= i < n``.

    Raises:
        ConfigError: anything else, with the expected form.
    """
    match = re.fullmatch(r'\s*(\d+)\s*/\s*(\d+)\s*', str(text))
    if not match:
        raise ConfigError(f'--shard must look like i/n (e.g. 0/4), got '
                          f'{text!r}')
    index, count = int(match.group(1)), int(match.group(2))
    if not 0 <= index < count:
        raise ConfigError(f'--shard {text}: need 0 <= i < n')
    return index, count


def shard_items(items: Sequence[ImageItem], index: int,
                count: int) -> List[ImageItem]:
    """Images ``[index::count]`` of the key-sorted list."""
    return list(items)[index::count]


def _stem(out: str) -> str:
    return out[:-len('.jsonl')] if out.endswith('.jsonl') else out


def shard_file(out: str, index: int, count: int) -> str:
    """``captions.jsonl`` -> ``captions.shard-0-of-4.jsonl``."""
    return f'{_stem(out)}.shard-{index}-of-{count}.jsonl'


def find_shard_files(out: str) -> Tuple[int, List[str]]:
    """The shard count and shard files present for ``out``.

    Returns:
        tuple[int, list[str]]: ``n`` and the existing files of shards
        ``0..n-1`` (possibly fewer than ``n``), or ``(0, [])`` if none.

    Raises:
        DataError: shard files of different counts are present.
    """
    pattern = re.compile(
        re.escape(osp.basename(_stem(out))) +
        r'\.shard-(\d+)-of-(\d+)\.jsonl$')
    found = {}
    for path in glob.glob(glob.escape(_stem(out)) + '.shard-*-of-*.jsonl'):
        match = pattern.match(osp.basename(path))
        if match:
            found.setdefault(int(match.group(2)), []).append(path)
    if len(found) > 1:
        raise DataError(f'shard files of {sorted(found)} shards exist for '
                        f'{out}; remove the stale ones')
    if not found:
        return 0, []
    count, files = next(iter(found.items()))
    return count, sorted(files)


def load_images(items: Sequence[ImageItem]) -> List[Image.Image]:
    """Read images as RGB; an unreadable file raises DataError naming it."""
    images = []
    for item in items:
        try:
            with Image.open(item.path) as img:
                images.append(img.convert('RGB'))
        except (OSError, ValueError) as e:
            raise DataError(f'cannot read image {item.path}: {e}') from None
    return images


def _done_keys(paths: Sequence[str], captioner) -> Set[str]:
    """Images already captioned in ``paths`` (those that exist), after
    checking they were captioned with the same settings."""
    done: Set[str] = set()
    ours = (captioner.name, captioner.model_id, captioner.prompt)
    for path in paths:
        if not osp.isfile(path):
            continue
        for key, record in read_captions(path).items():
            theirs = (record['captioner'], record['model'], record['prompt'])
            if theirs != ours:
                raise DataError(
                    f'{path} holds captions written with captioner='
                    f'{theirs[0]!r}, model={theirs[1]!r}, prompt='
                    f'{theirs[2]!r} (image {key!r}), but this run uses '
                    f'captioner={ours[0]!r}, model={ours[1]!r}, prompt='
                    f'{ours[2]!r}; resume with the same settings or write '
                    'to another --out')
            done.add(key)
    return done


class _Progress:
    """tqdm if installed, else mmengine's ProgressBar."""

    def __init__(self, total: int, initial: int, enabled: bool) -> None:
        self.bar, self.kind = None, None
        if not enabled:
            return
        try:
            from tqdm import tqdm
            self.bar = tqdm(
                total=total, initial=initial, unit='img', desc='captions')
            self.kind = 'tqdm'
        except ImportError:
            from mmengine.utils import ProgressBar
            self.bar = ProgressBar(total - initial)
            self.kind = 'mmengine'

    def update(self, n: int) -> None:
        if self.kind == 'tqdm':
            self.bar.update(n)
        elif self.kind == 'mmengine':
            for _ in range(n):
                self.bar.update()

    def close(self) -> None:
        if self.kind == 'tqdm':
            self.bar.close()


def caption_images(items: Sequence[ImageItem],
                   captioner,
                   out: str,
                   batch_size: int = 8,
                   skip_files: Sequence[str] = (),
                   progress: bool = True) -> Dict[str, int]:
    """Caption ``items`` into ``out``, skipping those already captioned.

    Args:
        items (Sequence[ImageItem]): images, in the order to caption them.
        captioner: an object with ``name``, ``model_id``, ``prompt`` and
            ``caption(list[PIL.Image]) -> list[str]``
            (:class:`~.captioners.HFCaptioner`,
            :class:`~.captioners.TemplateCaptioner`), or
            ``caption_items(list[ImageItem]) -> list[str]``, which is then
            called instead (:class:`~.oracle.OracleCaptioner`, from label
            maps).
        out (str): JSONL file to append to (created if missing).
        batch_size (int): images per ``caption`` call and per synced write.
        skip_files (Sequence[str]): further caption files whose images count
            as done (e.g. the merged output, for a shard).
        progress (bool): show a progress bar.

    Returns:
        dict[str, int]: ``total``, ``skipped`` (already captioned) and
        ``written`` image counts.

    Raises:
        DataError: an image cannot be read, or ``out``/``skip_files`` hold
            captions by another captioner, model or prompt.
    """
    if batch_size < 1:
        raise ConfigError(f'batch size must be >= 1, got {batch_size}')
    done = _done_keys([out] + list(skip_files), captioner)
    todo = [item for item in items if item.key not in done]
    bar = _Progress(len(items), len(items) - len(todo), progress)
    try:
        with CaptionWriter(out) as writer:
            for start in range(0, len(todo), batch_size):
                batch = todo[start:start + batch_size]
                if hasattr(captioner, 'caption_items'):  # label maps
                    captions = captioner.caption_items(batch)
                else:
                    captions = captioner.caption(load_images(batch))
                writer.write(
                    make_record(item.key, caption, captioner.name,
                                captioner.model_id, captioner.prompt)
                    for item, caption in zip(batch, captions))
                bar.update(len(batch))
    finally:
        bar.close()
    return dict(
        total=len(items), skipped=len(items) - len(todo), written=len(todo))


def _missing(items: Sequence[ImageItem], paths: Sequence[str]) -> List[str]:
    """Keys of ``items`` captioned in none of ``paths`` (existing ones)."""
    have: Set[str] = set()
    with warnings.catch_warnings():
        # a shard being written may end in a half-written line
        warnings.simplefilter('ignore')
        for path in paths:
            if osp.isfile(path):
                have.update(read_captions(path))
    return [item.key for item in items if item.key not in have]


def wait_for_shards(items: Sequence[ImageItem],
                    out: str,
                    count: int,
                    timeout: float,
                    poll: float = 2.0) -> None:
    """Wait until every shard of ``count`` covers its images (each file is
    checked against the images it must hold, so no marker files are used).

    Raises:
        DataError: shards are still incomplete after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    pending = list(range(count))
    while True:
        pending = [
            i for i in pending if _missing(
                shard_items(items, i, count),
                [out, shard_file(out, i, count)])
        ]
        if not pending:
            return
        if time.monotonic() >= deadline:
            raise DataError(
                f'shards {pending} of {count} did not finish within '
                f'{timeout:.0f} s; rerun them with --shard i/{count}, then '
                'merge with --merge')
        time.sleep(poll)


def merge_shards(items: Sequence[ImageItem],
                 out: str,
                 count: Optional[int] = None) -> Dict[str, dict]:
    """Merge ``OUT.shard-*-of-n.jsonl`` (and ``OUT``) into ``OUT``.

    Args:
        items (Sequence[ImageItem]): every image that must be captioned.
        out (str): the merged caption file.
        count (int, optional): the shard count; found from the files if
            None.

    Returns:
        dict[str, dict]: merged records by image key, sorted.

    Raises:
        DataError: no shard files, conflicting captions, or images missing
            (the incomplete shards are named).
    """
    found, files = find_shard_files(out)
    count = count or found
    if not count:
        raise DataError(f'no shard files ({shard_file(out, 0, "N")} ...) '
                        f'found to merge into {out}')
    files = [shard_file(out, i, count) for i in range(count)]
    sources = [p for p in [out] + files if osp.isfile(p)]
    incomplete = {}
    for i in range(count):
        missing = _missing(shard_items(items, i, count), sources)
        if missing:
            incomplete[i] = len(missing)
    if incomplete:
        detail = ', '.join(f'shard {i}/{count}: {n} images missing'
                           for i, n in incomplete.items())
        raise DataError(f'cannot merge into {out}: {detail}; run those '
                        'shards (again) first')
    merged = merge_captions(sources, out)
    for path in files:
        if osp.isfile(path):
            os.remove(path)
    return merged
