"""The caption cache: one JSON record a line (JSONL), keyed by image.

Each line is one object with the keys of :data:`RECORD_KEYS`::

    {"image": "img_dir/train/train_0000.png",
     "caption": "A picture of two discs on a textured background.",
     "captioner": "hf", "model": "Salesforce/blip-image-captioning-base",
     "prompt": "a photo of"}

``image`` is the image path relative to the data root with POSIX
separators, ``captioner`` the backend that wrote the caption (``'hf'``,
``'template'``, ``'synthetic-ground-truth'``, or the diagnostic
``'oracle'`` / ``'oracle-regions'``, which read the labels), ``model`` the model id or
path (the checkpoint for the template backend) and ``prompt`` the prompt
(or null).

Writers only ever append whole lines and sync each batch to disk, so a
killed writer leaves at most one truncated final line; :func:`read_captions`
drops it with a warning and :class:`CaptionWriter` cuts it off before
appending again. Any other damage is an error naming ``file:line``.
"""
import json
import os
import os.path as osp
import posixpath
import tempfile
import warnings
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ..utils.errors import DataError

#: keys of every record, in the order they are written
RECORD_KEYS = ('image', 'caption', 'captioner', 'model', 'prompt')


def image_key(path: str, root: Optional[str] = None) -> str:
    """The cache key of an image: its path relative to ``root``, POSIX.

    Args:
        path (str): image path.
        root (str, optional): data root; None if ``path`` is already
            relative to it.

    Returns:
        str: e.g. ``'img_dir/train/train_0000.png'``.
    """
    rel = osp.relpath(path, root) if root else osp.normpath(path)
    if os.sep != '/':
        rel = rel.replace(os.sep, '/')
    return posixpath.normpath(rel)


def make_record(image: str, caption: str, captioner: str, model: Optional[str],
                prompt: Optional[str]) -> dict:
    """A record with the keys of :data:`RECORD_KEYS`, in that order."""
    return dict(
        image=image,
        caption=caption,
        captioner=captioner,
        model=model,
        prompt=prompt)


def _check_record(record, where: str) -> dict:
    if not isinstance(record, dict):
        raise DataError(f'{where}: expected a JSON object, got '
                        f'{type(record).__name__}')
    missing = [k for k in RECORD_KEYS if k not in record]
    if missing:
        raise DataError(f'{where}: record lacks key(s) {missing}; every '
                        f'record needs {list(RECORD_KEYS)}')
    for key in ('image', 'caption'):
        if not isinstance(record[key], str):
            raise DataError(f'{where}: "{key}" must be a string, got '
                            f'{record[key]!r}')
    if not record['image']:
        raise DataError(f'{where}: "image" is empty')
    return record


def _split_complete(data: bytes) -> Tuple[bytes, bytes]:
    """(complete lines, trailing bytes after the last newline)."""
    end = data.rfind(b'\n') + 1
    return data[:end], data[end:]


def _parse_tail(tail: bytes, path: str, lineno: int) -> Optional[dict]:
    """The final line without newline: a record if whole, else None."""
    try:
        return _check_record(json.loads(tail.decode('utf-8')), '')
    except (ValueError, DataError):
        warnings.warn(f'{path}:{lineno}: dropping a truncated final line '
                      '(an interrupted writer); its image will be captioned '
                      'again')
        return None


def read_records(path: str) -> List[Tuple[int, dict]]:
    """All records of a caption file with their line numbers, in file order.

    A final line without newline that does not parse (a killed writer) is
    dropped with a warning; blank lines are skipped.

    Args:
        path (str): JSONL caption file.

    Returns:
        list[tuple[int, dict]]: (1-based line number, record).

    Raises:
        DataError: the file is missing, or a line is not valid JSON, lacks
            a key of :data:`RECORD_KEYS` or has a non-string image/caption.
    """
    if not osp.isfile(path):
        raise DataError(f'caption file not found: {path}')
    with open(path, 'rb') as f:
        complete, tail = _split_complete(f.read())
    records = []
    lineno = 0
    for lineno, raw in enumerate(complete.split(b'\n')[:-1], start=1):
        where = f'{path}:{lineno}'
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode('utf-8'))
        except (UnicodeDecodeError, ValueError) as e:
            raise DataError(f'{where}: not a JSON line ({e}); fix or remove '
                            'the line') from None
        records.append((lineno, _check_record(record, where)))
    if tail.strip():
        record = _parse_tail(tail, path, lineno + 1)
        if record is not None:
            records.append((lineno + 1, record))
    return records


def read_captions(path: str) -> Dict[str, dict]:
    """Read a caption file into ``{image key: record}``.

    Args:
        path (str): JSONL caption file.

    Returns:
        dict[str, dict]: records by normalised image key (POSIX, relative to
        the data root), in file order.

    Raises:
        DataError: as :func:`read_records`, or one image has two records
            with different captions (both lines named).
    """
    out: Dict[str, dict] = {}
    first_line: Dict[str, int] = {}
    for lineno, record in read_records(path):
        key = image_key(record['image'])
        if key in out:
            if out[key]['caption'] != record['caption']:
                raise DataError(
                    f'{path}:{lineno}: image {key!r} has a different caption'
                    f' at line {first_line[key]}: {record["caption"]!r} vs '
                    f'{out[key]["caption"]!r}')
            continue
        out[key] = record
        first_line[key] = lineno
    return out


def repair_tail(path: str) -> bool:
    """Make a caption file end with a whole line before appending to it.

    A complete record missing only its newline gets the newline; anything
    else after the last newline (a line cut by a killed writer) is cut off.

    Args:
        path (str): caption file; nothing happens if it does not exist.

    Returns:
        bool: whether the file was changed.
    """
    if not osp.isfile(path):
        return False
    with open(path, 'rb+') as f:
        complete, tail = _split_complete(f.read())
        if not tail:
            return False
        try:
            _check_record(json.loads(tail.decode('utf-8')), '')
            f.write(b'\n')
        except (ValueError, DataError):
            f.truncate(len(complete))
        f.flush()
        os.fsync(f.fileno())
    return True


class CaptionWriter:
    """Append records to a caption file, whole lines only, synced to disk.

    Opening repairs a truncated final line (:func:`repair_tail`); each
    :meth:`write` appends its records in one write, then flushes and
    fsyncs, so an interrupted run loses at most the batch in flight.
    Existing lines are never rewritten.

    Args:
        path (str): caption file, created (with its folder) if missing.

    Example:
        >>> with CaptionWriter('captions.jsonl') as writer:
        ...     writer.write([make_record('a.png', 'a cat.', 'hf', 'm', None)])
    """

    def __init__(self, path: str) -> None:
        self.path = path
        folder = osp.dirname(osp.abspath(path))
        os.makedirs(folder, exist_ok=True)
        repair_tail(path)
        self._file = open(path, 'a', encoding='utf-8')

    def write(self, records: Iterable[dict]) -> None:
        """Append ``records`` (dicts with :data:`RECORD_KEYS`)."""
        lines = []
        for record in records:
            _check_record(record, f'record for {self.path}')
            lines.append(
                json.dumps({k: record[k]
                            for k in RECORD_KEYS},
                           ensure_ascii=False) + '\n')
        if not lines:
            return
        self._file.write(''.join(lines))
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> 'CaptionWriter':
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_captions(records: Iterable[dict], path: str) -> None:
    """Write ``records`` as a new caption file, atomically (temp + rename).

    Args:
        records (Iterable[dict]): records with :data:`RECORD_KEYS`.
        path (str): destination; replaced as a whole only once complete.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=osp.basename(path) + '.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            for record in records:
                _check_record(record, f'record for {path}')
                f.write(
                    json.dumps({k: record[k]
                                for k in RECORD_KEYS},
                               ensure_ascii=False) + '\n')
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def merge_captions(shard_files: Sequence[str], out: str) -> Dict[str, dict]:
    """Merge caption files into ``out``: deduplicated, sorted by image.

    Args:
        shard_files (Sequence[str]): caption files to merge (``out`` itself
            may be among them; it is read before being replaced).
        out (str): merged file, written atomically.

    Returns:
        dict[str, dict]: the merged records by image key.

    Raises:
        DataError: a file is missing or malformed, or two files give the
            same image different captions (both files named).
    """
    merged: Dict[str, dict] = {}
    source: Dict[str, str] = {}
    for path in shard_files:
        for key, record in read_captions(path).items():
            if key in merged:
                if merged[key]['caption'] != record['caption']:
                    raise DataError(
                        f'image {key!r} has different captions in '
                        f'{source[key]} ({merged[key]["caption"]!r}) and '
                        f'{path} ({record["caption"]!r}); remove one before '
                        'merging')
                continue
            merged[key] = dict(record, image=key)
            source[key] = path
    ordered = {key: merged[key] for key in sorted(merged)}
    write_captions(ordered.values(), out)
    return ordered
