"""The on-disk text-embedding cache: computed once, reused, never mixed."""
import os

import pytest
import torch

from mmseg_viladiff.text import (FrozenTextEncoder, TextEmbeddingCache,
                                 build_text_encoder)
from mmseg_viladiff.utils import DataError


class CountingEncoder(FrozenTextEncoder):
    """Wraps an encoder and records which texts reach it."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.encoder_id, self.embed_dim = inner.encoder_id, inner.embed_dim
        self.seen = []

    def _encode_batch(self, texts):
        self.seen.extend(texts)
        return self.inner._encode_batch(texts)


@pytest.fixture
def counting():
    return CountingEncoder(build_text_encoder(dict(type='HFTextEncoder')))


def test_repeated_texts_are_encoded_once(tmp_path, counting):
    cache = TextEmbeddingCache(counting, str(tmp_path))
    first = cache.get(['a road', 'a car', 'a road'])
    second = cache.get(['a car', 'a road'])
    assert counting.seen == ['a road', 'a car']
    assert (cache.misses, cache.hits) == (2, 2)
    assert torch.equal(first[1].tokens, second[0].tokens)


def test_disk_cache_reused_by_a_new_run(tmp_path, counting):
    computed = TextEmbeddingCache(counting, str(tmp_path)).get(['a road'])[0]
    fresh = CountingEncoder(counting.inner)
    loaded = TextEmbeddingCache(fresh, str(tmp_path)).get(['a road'])[0]
    assert fresh.seen == []  # read from disk, not encoded
    assert torch.equal(loaded.tokens, computed.tokens)
    assert torch.equal(loaded.pooled, computed.pooled)
    # tokens are stored as float16, close to the encoder's float32 output
    direct = counting.inner.encode(['a road'])[0]
    assert torch.allclose(loaded.tokens, direct.tokens, atol=1e-2)


def test_other_encoder_gets_its_own_folder(tmp_path, counting):
    TextEmbeddingCache(counting, str(tmp_path)).get(['a road'])
    other = CountingEncoder(counting.inner)
    other.encoder_id = counting.encoder_id + ' (other weights)'
    TextEmbeddingCache(other, str(tmp_path)).get(['a road'])
    assert other.seen == ['a road']
    assert len([d for d in os.listdir(tmp_path)]) == 2


def test_corrupt_file_named_in_error(tmp_path, counting):
    cache = TextEmbeddingCache(counting, str(tmp_path))
    cache.get(['a road'])
    path = cache._path('a road')
    with open(path, 'wb') as f:
        f.write(b'not a checkpoint')
    with pytest.raises(DataError, match=os.path.basename(path)):
        TextEmbeddingCache(counting, str(tmp_path)).get(['a road'])


def test_memory_only_cache(counting):
    cache = TextEmbeddingCache(counting, None)
    cache.get(['x', 'x'])
    cache.get(['x'])
    assert counting.seen == ['x'] and cache.folder is None
