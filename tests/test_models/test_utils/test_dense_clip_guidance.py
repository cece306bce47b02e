"""SemiVL's dense CLIP guidance: MaskCLIP embeddings, labels, weight
schedule, loss and config checks, on tiny CLIPs (no weights)."""
import open_clip
import pytest
import torch
import torch.nn.functional as F
from helpers import save_tiny_clip
from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
from open_clip.transformer import VisionTransformer

from mmseg_viladiff.models.utils import (DenseCLIPGuidance,
                                         check_dense_guidance_cfg,
                                         confident_labels, dense_guidance_loss,
                                         linear_decay, maskclip_embeddings)
from mmseg_viladiff.utils import ConfigError

VOCAB = dict(
    name='tiny',
    classes=['sky', 'road', 'car'],
    concepts=[['sky', 'clouds'], ['road'], ['car', 'van', 'bus']])
TEMPLATE = 'a photo of a {}.'
MMSEG_MEAN = (123.675, 116.28, 103.53)
MMSEG_STD = (58.395, 57.12, 57.375)


@pytest.fixture(scope='module')
def tiny_clip(tmp_path_factory):
    return save_tiny_clip(str(tmp_path_factory.mktemp('clip')))


@pytest.fixture(scope='module')
def guidance(tiny_clip):
    return DenseCLIPGuidance(
        tiny_clip,
        VOCAB,
        num_classes=3,
        templates=(TEMPLATE, ),
        cache_dir=None,
        input_mean=MMSEG_MEAN,
        input_std=MMSEG_STD)


def test_weight_schedule_decays_linearly_to_zero():
    w, total = 0.1, 400
    values = [
        w * linear_decay(t, total) for t in (0, 100, 200, 400, 401, 10_000)
    ]
    assert values == pytest.approx([0.1, 0.075, 0.05, 0.0, 0.0, 0.0])
    with pytest.raises(ValueError):
        linear_decay(0, 0)


def _two_layer_vit():
    torch.manual_seed(0)
    vit = VisionTransformer(
        image_size=32,
        patch_size=16,
        width=32,
        layers=2,
        heads=2,
        mlp_ratio=4.0,
        output_dim=24)
    with torch.no_grad():  # non-trivial LayerNorms and value bias
        for name, p in vit.named_parameters():
            if 'ln' in name or 'bias' in name:
                p.add_(0.3 * torch.randn_like(p))
    return vit.eval()


def test_maskclip_embeddings_are_the_value_path_of_the_last_block():
    vit = _two_layer_vit()
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        emb = maskclip_embeddings(vit, images)
        assert emb.shape == (2, 24, 2, 2)
        assert torch.allclose(emb.norm(dim=1), torch.ones(2, 2, 2))
        # by hand for patch (row 1, col 0) of image 1: open_clip's own
        # embedding and first block, then the last block's value path
        tokens = vit.transformer.resblocks[0](vit._embeds(images))
        x = tokens[1, 1 + 1 * 2 + 0]  # (C,)
        last = vit.transformer.resblocks[1]
        c = 32
        y = F.layer_norm(x, (c, ), last.ln_1.weight, last.ln_1.bias)
        v = last.attn.in_proj_weight[2 * c:] @ y + \
            last.attn.in_proj_bias[2 * c:]
        o = last.attn.out_proj.weight @ v + last.attn.out_proj.bias
        z = F.layer_norm(o, (c, ), vit.ln_post.weight, vit.ln_post.bias)
        z = F.normalize(z @ vit.proj, dim=0)
    assert torch.allclose(emb[1, :, 1, 0], z, atol=1e-5)
    # not the tokens of CLIP's full last block
    full = vit.ln_post(vit.transformer(vit._embeds(images))) @ vit.proj
    assert not torch.allclose(
        emb[1, :, 1, 0], F.normalize(full[1, 3], dim=0), atol=1e-2)


def test_maskclip_embeddings_of_other_sizes_resize_the_positions():
    vit = _two_layer_vit()
    with torch.no_grad():
        emb = maskclip_embeddings(vit, torch.randn(1, 3, 48, 64))
    assert emb.shape == (1, 24, 3, 4)
    assert torch.isfinite(emb).all()


def test_clip_input_converts_the_normalisation(guidance, tiny_clip):
    pixels = torch.rand(1, 3, 4, 4) * 255  # RGB, 0-255
    mean = torch.tensor(MMSEG_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(MMSEG_STD).view(1, 3, 1, 1)
    clip_mean = torch.tensor(OPENAI_DATASET_MEAN).view(1, 3, 1, 1)
    clip_std = torch.tensor(OPENAI_DATASET_STD).view(1, 3, 1, 1)
    expected = (pixels / 255 - clip_mean) / clip_std
    got = guidance.clip_input((pixels - mean) / std)
    assert torch.allclose(got, expected, atol=1e-5)
    # BGR inputs (no bgr_to_rgb): the preprocessor's mean and std are BGR
    bgr = DenseCLIPGuidance(
        tiny_clip,
        VOCAB,
        3,
        templates=(TEMPLATE, ),
        cache_dir=None,
        input_mean=MMSEG_MEAN[::-1],
        input_std=MMSEG_STD[::-1],
        input_bgr=True)
    bgr_inputs = (pixels.flip(1) - mean.flip(1)) / std.flip(1)
    assert torch.allclose(bgr.clip_input(bgr_inputs), expected, atol=1e-5)


def test_logits_are_the_max_cosine_over_each_class_phrases(
        guidance, tiny_clip):
    model = open_clip.create_model(tiny_clip).eval()
    tokenizer = open_clip.get_tokenizer(tiny_clip)
    images = torch.randn(2, 3, 32, 32)
    logits = guidance.logits(images)
    assert logits.shape == (2, 3, 2, 2)  # (B, K, h, w): 16-pixel patches
    with torch.no_grad():
        emb = maskclip_embeddings(model.visual, images)  # (B, D, h, w)
        for k, phrases in enumerate(VOCAB['concepts']):
            text = model.encode_text(
                tokenizer([TEMPLATE.format(p) for p in phrases]),
                normalize=True)  # (P_k, D)
            sims = torch.einsum('bdhw,pd->bphw', emb, text)
            assert torch.allclose(logits[:, k], sims.amax(dim=1), atol=1e-5), k
    assert all(p.grad is None and not p.requires_grad
               for p in guidance.visual.parameters())


def test_labels_ignore_pixels_below_the_threshold():
    # softmax(100 x) per pixel: 0.99995 (class 0), 0.731, 0.9933 (class 1)
    logits = torch.tensor([[0.1, 0.0, 0.0], [0.0, 0.01, 0.05]])
    logits = logits.view(1, 2, 1, 3)
    assert confident_labels(logits, 100, 0.9).tolist() == [[[0, 255, 1]]]
    assert confident_labels(logits, 100, 0.0).tolist() == [[[0, 1, 1]]]
    assert confident_labels(logits, 1, 0.9).tolist() == [[[255] * 3]]


def test_labels_of_preprocessed_images(guidance):
    images = torch.randn(2, 3, 32, 32)
    expected = confident_labels(
        F.interpolate(
            guidance.logits(guidance.clip_input(images)),
            size=(32, 32),
            mode='bilinear',
            align_corners=False), guidance.temperature, guidance.threshold)
    labels = guidance.labels(images)
    assert labels.dtype == torch.long and torch.equal(labels, expected)
    # any size (padded to whole patches, cropped back); padding ignored
    valid = torch.ones(2, 40, 36, dtype=torch.bool)
    valid[1, 30:] = False
    labels = guidance.labels(torch.randn(2, 3, 40, 36), valid)
    assert labels.shape == (2, 40, 36)
    assert (labels[1, 30:] == 255).all()
    assert set(labels.unique().tolist()) <= {0, 1, 2, 255}


def test_loss_sums_labelled_pixels_and_divides_by_all():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 4, 4)
    labels = torch.randint(0, 3, (2, 4, 4))
    labels[0, :2] = 255
    per_pixel = -logits.log_softmax(dim=1).gather(
        1,
        labels.clamp(max=2)[:, None])[:, 0]  # (B, H, W)
    expected = per_pixel[labels != 255].sum() / 32
    assert torch.allclose(dense_guidance_loss(logits, labels), expected)
    # all ignored: zero, not NaN
    assert dense_guidance_loss(logits, torch.full_like(labels, 255)) == 0


BASE = dict(model='ViT-B-16', vocabulary='voc')


@pytest.mark.parametrize('cfg, key', [
    (dict(vocabulary='voc'), 'dense_guidance.model'),
    (dict(model='ViT-B-16'), 'dense_guidance.vocabulary'),
    (dict(BASE, weight=-1), 'dense_guidance.weight'),
    (dict(BASE, threshold=1.5), 'dense_guidance.threshold'),
    (dict(BASE, temperature=0), 'dense_guidance.temperature'),
    (dict(BASE, decay_iters=0), 'dense_guidance.decay_iters'),
    (dict(BASE, decay_iters=10.5), 'dense_guidance.decay_iters'),
    (dict(BASE, allow_download='yes'), 'dense_guidance.allow_download'),
    (dict(BASE, tempreature=50), 'dense_guidance.tempreature'),
])
def test_bad_config_names_the_key(cfg, key):
    with pytest.raises(ConfigError, match=key.replace('.', r'\.')):
        check_dense_guidance_cfg(cfg)


def test_config_defaults_and_vocabulary_size(tiny_clip):
    cfg = check_dense_guidance_cfg(dict(model='ViT-B-16', vocabulary='voc'))
    assert (cfg['weight'], cfg['threshold'], cfg['temperature'],
            cfg['decay_iters']) == (0.1, 0.9, 100.0, None)
    with pytest.raises(ConfigError, match='dense_guidance.vocabulary'):
        DenseCLIPGuidance(tiny_clip, VOCAB, num_classes=4, cache_dir=None)
    with pytest.raises(ConfigError, match='dense_guidance.vocabulary'):
        DenseCLIPGuidance(tiny_clip, 'no-such', num_classes=3, cache_dir=None)
