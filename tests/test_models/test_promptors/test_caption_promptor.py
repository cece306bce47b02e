"""CaptionPromptor: caption tokens + mask per batch, class embeddings."""
import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmseg_viladiff.text import class_prompts, get_vocabulary
from mmseg_viladiff.utils import ConfigError


@pytest.fixture(scope='module')
def promptor(tmp_path_factory):
    return MODELS.build(
        dict(
            type='CaptionPromptor',
            text_encoder=dict(type='HFTextEncoder'),
            vocabulary='camvid',
            cache_dir=str(tmp_path_factory.mktemp('text_cache'))))


def test_batch_text(promptor):
    out = promptor([
        dict(caption='a road with cars and trees'),
        dict(caption='sky'),
        dict(caption='')
    ])
    tokens, mask = out['caption_tokens'], out['caption_mask']
    assert tokens.shape == (3, 8, 384) and mask.shape == (3, 8)
    assert mask.sum(1).tolist() == [8, 3, 0]  # [CLS] ... [SEP]; none
    assert (tokens[~mask] == 0).all()
    assert out['class_embeddings'].shape == (11, 384)
    # the same caption gives the same tokens in any batch
    alone = promptor([dict(caption='sky')])['caption_tokens'][0]
    assert torch.equal(alone, tokens[1, :3])


def test_class_embeddings_are_prompt_means(promptor):
    vocab = get_vocabulary('camvid')
    car = vocab.classes.index('car')
    prompts = class_prompts(vocab)[car]
    pooled = torch.stack([e.pooled for e in promptor.cache.get(prompts)])
    expected = F.normalize(pooled.mean(0), dim=0)
    assert torch.allclose(promptor.class_embeddings[car], expected)
    # prompts of 'car' are nearer a caption about cars than 'sky' prompts
    caption = promptor.cache.get(['several cars on a street'])[0].pooled
    sky = vocab.classes.index('sky')
    emb = promptor.class_embeddings
    assert caption @ emb[car] > caption @ emb[sky]


def test_class_embeddings_saved_with_model(promptor):
    assert 'class_embeddings' in promptor.state_dict()
    assert not any(k.startswith('cache') for k in promptor.state_dict())


def test_no_metas_gives_class_text_only(promptor):
    assert set(promptor()) == {'class_embeddings'}


def test_missing_caption_is_a_clear_error(promptor):
    with pytest.raises(
            ConfigError, match=r'a\.png has no caption.*LoadCaption'):
        promptor([dict(img_path='a.png')])


def test_caption_tuple_is_the_union_of_its_captions_tokens(promptor):
    """A CutMix-ed sample's caption (a tuple) reads as the concatenation
    of each caption's tokens, every one of them from the cache."""
    out = promptor([
        dict(caption=('a road with cars and trees', 'sky')),
        dict(caption='sky'),
        dict(caption=('', 'sky'))
    ])
    alone = promptor([dict(caption='a road with cars and trees')])
    tokens, mask = out['caption_tokens'], out['caption_mask']
    assert mask.sum(1).tolist() == [11, 3, 3]
    assert torch.equal(tokens[0, :8], alone['caption_tokens'][0])
    assert torch.equal(tokens[0, 8:11], tokens[1, :3])
    assert torch.equal(tokens[2, :3], tokens[1, :3])


def test_phrase_units_give_one_pooled_token_per_phrase(tmp_path):
    promptor = MODELS.build(
        dict(
            type='CaptionPromptor',
            text_encoder=dict(type='HFTextEncoder'),
            vocabulary='camvid',
            cache_dir=str(tmp_path),
            caption_units='phrases'))
    out = promptor([
        dict(caption='top left: sky. bottom right: car, road.'),
        dict(caption=('sky.', 'counts: 2 pole.')),  # a CutMix-ed pair
        dict(caption='')
    ])
    tokens, mask = out['caption_tokens'], out['caption_mask']
    assert tokens.shape == (3, 2, 384)
    assert mask.sum(1).tolist() == [2, 2, 0]
    expected = promptor.cache.get(['bottom right: car, road.'])[0].pooled
    assert torch.equal(tokens[0, 1], expected)
    with pytest.raises(ConfigError, match='caption_units'):
        MODELS.build(
            dict(
                type='CaptionPromptor',
                text_encoder=dict(type='HFTextEncoder'),
                vocabulary='camvid',
                caption_units='words'))
