"""An on-disk cache of text embeddings keyed by encoder id and text."""
import hashlib
import io
import os
import os.path as osp
import tempfile
from typing import Dict, List, Optional, Sequence

import torch

from ..utils.errors import DataError
from .text_encoders import FrozenTextEncoder, TextEmbedding


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode('utf-8')).hexdigest()


class TextEmbeddingCache:
    """Embeddings of texts, computed once by a frozen encoder.

    Layout: ``cache_dir/<sha1(encoder_id)[:16]>/<ab>/<sha1(text)>.pt``, each
    file a dict with the text (checked on read), the token embeddings
    (L, D, float16) and the pooled embedding (D, float32); ``encoder.json``
    in the encoder's folder records the id. Files are written to a temp name
    and renamed, so an interrupted run or concurrent ranks never leave a
    partial file, and files written earlier are never touched. Reads use
    ``torch.load(weights_only=True)``. Lookups also go through an in-memory
    dict, so repeated texts in a run cost a dict lookup.

    Args:
        encoder (FrozenTextEncoder): the encoder (only called on misses).
        cache_dir (str, optional): root folder; None keeps the cache in
            memory only.
    """

    def __init__(self,
                 encoder: FrozenTextEncoder,
                 cache_dir: Optional[str] = None) -> None:
        self.encoder = encoder
        self.memory: Dict[str, TextEmbedding] = {}
        self.hits = self.disk_hits = self.misses = 0
        self.folder = None
        if cache_dir is not None:
            self.folder = osp.join(
                osp.expanduser(cache_dir),
                _digest(encoder.encoder_id)[:16])
            os.makedirs(self.folder, exist_ok=True)
            id_file = osp.join(self.folder, 'encoder.json')
            if not osp.isfile(id_file):
                self._atomic_write(id_file, encoder.encoder_id.encode())

    def _path(self, text: str) -> str:
        digest = _digest(text)
        return osp.join(self.folder, digest[:2], digest + '.pt')

    @staticmethod
    def _atomic_write(path: str, data: bytes) -> None:
        os.makedirs(osp.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=osp.dirname(path), suffix='.tmp')
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)

    def _read(self, text: str) -> Optional[TextEmbedding]:
        path = self._path(text)
        if not osp.isfile(path):
            return None
        try:
            record = torch.load(path, map_location='cpu', weights_only=True)
        except Exception as exc:  # truncated or foreign file
            raise DataError(f'Unreadable text-embedding cache file {path}: '
                            f'{exc}; delete it to recompute') from exc
        if record.get('text') != text:
            return None  # hash collision: recompute, never mix texts
        return TextEmbedding(record['tokens'].float(), record['pooled'])

    def _write(self, text: str, emb: TextEmbedding) -> None:
        buffer = io.BytesIO()
        torch.save(
            dict(text=text, tokens=emb.tokens.half(), pooled=emb.pooled),
            buffer)
        self._atomic_write(self._path(text), buffer.getvalue())

    def get(self, texts: Sequence[str]) -> List[TextEmbedding]:
        """Embeddings of ``texts`` (in order), encoding only those seen
        neither in memory nor on disk."""
        missing = []
        for text in dict.fromkeys(texts):
            if text in self.memory:
                self.hits += 1
                continue
            emb = self._read(text) if self.folder else None
            if emb is None:
                missing.append(text)
            else:
                self.disk_hits += 1
                self.memory[text] = emb
        if missing:
            self.misses += len(missing)
            for text, emb in zip(missing, self.encoder.encode(missing)):
                if self.folder:
                    self._write(text, emb)
                    # what later runs will read: tokens stored as float16
                    emb = TextEmbedding(emb.tokens.half().float(), emb.pooled)
                self.memory[text] = emb
        return [self.memory[t] for t in texts]
