"""CaptionPromptor with class_text='concepts': concept and class
embeddings as buffers, and the errors of its settings."""
import pytest
import torch
import torch.nn.functional as F
from helpers import save_tiny_clip
from mmseg.registry import MODELS

from mmseg_viladiff.text import concept_prompts, get_vocabulary
from mmseg_viladiff.utils import ConfigError

TEMPLATES = ('a photo of a {}.', 'the {}.')


@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    return save_tiny_clip(str(tmp_path_factory.mktemp('clip')))


def build(clip, **kwargs):
    cfg = dict(
        type='CaptionPromptor',
        text_encoder=dict(type='OpenCLIPTextEncoder', model_name=clip),
        vocabulary='camvid',
        class_text='concepts',
        templates=TEMPLATES,
        cache_dir=None)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_concept_and_class_embeddings(clip):
    promptor = build(clip)
    vocab = get_vocabulary('camvid')
    sizes = [len(c) for c in vocab.concepts]
    out = promptor()
    assert set(out) == {
        'class_embeddings', 'concept_embeddings', 'concept_class'
    }
    assert out['concept_embeddings'].shape == (sum(sizes), 32)
    assert out['concept_class'].tolist() == [
        k for k, n in enumerate(sizes) for _ in range(n)
    ]
    car = vocab.classes.index('car')
    prompts = concept_prompts(vocab, TEMPLATES)[car]
    phrases = []
    for per_phrase in prompts:  # each phrase: mean over the templates
        pooled = torch.stack(
            [e.pooled for e in promptor.cache.get(per_phrase)])
        phrases.append(F.normalize(pooled.mean(0), dim=0))
    phrases = torch.stack(phrases)
    mine = out['concept_embeddings'][out['concept_class'] == car]
    assert torch.allclose(mine, phrases, atol=1e-6)
    assert torch.allclose(
        out['class_embeddings'][car],
        F.normalize(phrases.mean(0), dim=0),
        atol=1e-6)
    # a different phrase set gives a different class embedding
    default = build(clip, class_text='prompts')
    assert not torch.allclose(default.class_embeddings[car],
                              out['class_embeddings'][car])
    assert set(promptor.state_dict()) == {
        'class_embeddings', 'concept_embeddings', 'concept_class'
    }


@pytest.mark.parametrize('kwargs, match', [
    (dict(class_text='phrases'), 'class_text must be one of'),
    (dict(use_definitions=True), 'use_definitions=True'),
])
def test_bad_settings_name_the_key(clip, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        build(clip, **kwargs)
