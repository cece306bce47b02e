import copy

import pytest
import torch
import torch.nn.functional as F
from helpers import diffusion_head, seg_samples
from mmengine.config import ConfigDict
from mmseg.registry import MODELS

from mmseg_viladiff.models.decode_heads import edge_band
from mmseg_viladiff.utils.errors import ConfigError


_head = diffusion_head


def _squares(n, size=32, generator=None):
    """Masks (n, size, size): one random square of class 1 on class 0."""
    labels = torch.zeros(n, size, size, dtype=torch.long)
    for i in range(n):
        side = int(
            torch.randint(
                size // 4, size // 2 + 2, (1, ), generator=generator))
        y, x = torch.randint(0, size - side, (2, ), generator=generator)
        labels[i, y:y + side, x:x + side] = 1
    return labels


def _toy_batch(labels, generator):
    """Features that contain the answer (``onehot + noise``) and a blurred
    first prediction: for the stand-alone test only."""
    onehot = F.one_hot(labels, 2).permute(0, 3, 1, 2).float()
    noise = torch.randn(
        labels.shape[0], 2, *labels.shape[1:], generator=generator)
    feats = torch.cat([
        onehot + 0.8 * noise,
        onehot.mean(1, keepdim=True).expand(-1, 2, -1, -1)
    ], 1)  # (B, 4, H, W)
    coarse = F.interpolate(
        F.avg_pool2d(onehot, 8), scale_factor=8, mode='bilinear')
    first = 6 * (coarse - 0.5)  # (B, 2, H, W) logits with soft edges
    return [feats], first


def test_shapes_and_zero_steps_keep_the_first_prediction():
    head = _head(num_inference_steps=3).eval()
    feats = [torch.rand(2, 4, 16, 24)]
    first = torch.randn(2, 2, 16, 24)
    assert head(feats, first).shape == (2, 2, 16, 24)
    assert head(feats, torch.randn(2, 2, 8, 12)).shape == (2, 2, 16, 24)
    head.num_inference_steps = 0
    assert torch.equal(head(feats, first), first)
    assert head._inference_steps(head.start_step) == [10]
    head.num_inference_steps = 3
    assert head._inference_steps(head.start_step) == [10, 7, 3, 0]
    # 'prediction': the first head's softmax is the forward process at T
    assert _head(flip_source='prediction').start_step == 20
    assert _head(flip_source='prediction', start_step=5).start_step == 5


def test_loss_has_gradients_for_the_head():
    head = _head(flip_source='prediction').train()
    labels = _squares(2, 16)
    loss = head.loss([torch.rand(2, 4, 16, 16, requires_grad=True)],
                     torch.randn(2, 2, 16, 16), seg_samples(labels), None)
    loss['loss_ce'].backward()
    for module in (head.mask_embed, head.fuse, head.time_mlp, head.conv_seg):
        grads = [p.grad for p in module.parameters()]
        assert all(g is not None and g.abs().sum() > 0 for g in grads)


def test_cascade_with_deeplabv3plus_trains_and_predicts():
    torch.manual_seed(0)
    norm = dict(type='BN')
    model_cfg = (
        dict(
            type='RefineCascadeEncoderDecoder',
            num_stages=2,
            data_preprocessor=dict(
                type='SegDataPreProcessor', mean=[0.] * 3, std=[1.] * 3),
            backbone=dict(type='EfficientNetLite0', norm_cfg=norm),
            decode_head=[
                dict(
                    type='DepthwiseSeparableASPPHead',
                    in_channels=320,
                    in_index=3,
                    channels=16,
                    dilations=(1, 2),
                    c1_in_channels=24,
                    c1_channels=8,
                    num_classes=3,
                    norm_cfg=norm),
                dict(
                    type='EdgeAwareMixDiffusionHead',
                    in_channels=24,
                    in_index=0,
                    channels=16,
                    num_classes=3,
                    norm_cfg=norm,
                    flip_source='prediction',
                    condition_on_decoder=True,
                    num_inference_steps=2)
            ],
            train_cfg=ConfigDict(),
            test_cfg=ConfigDict(mode='whole')))
    model = MODELS.build(copy.deepcopy(model_cfg))
    x = torch.rand(2, 3, 64, 64)
    labels = torch.randint(0, 3, (2, 64, 64))
    losses = model.loss(x, seg_samples(labels))
    assert {'decode_0.loss_ce', 'decode_1.loss_ce'} <= set(losses)
    losses['decode_1.loss_ce'].backward()
    head = model.decode_head[1]
    # the decoder features reach the refiner, but no gradient reaches the
    # first head from it (they are detached)
    assert head.decoder_proj.conv.weight.grad.abs().sum() > 0
    assert model.decode_head[0].conv_seg.weight.grad is None
    # one calibration step moved the temperature from 1 (momentum 0.9)
    assert head.temperature.item() != 1.0
    model.eval()
    with torch.no_grad():
        out = model.predict(x, seg_samples(labels))
        feats = model.extract_feat(x)
        first = model.decode_head[0].forward(feats)
        raw = head.refine(first, head._features(feats))
        scaled = head.forward(feats, first)
    assert out[0].pred_sem_seg.shape == (64, 64)
    assert torch.allclose(scaled * head.temperature, raw, atol=1e-5)
    # a deep copy (e.g. an EMA model) reads its own first head's features
    twin = copy.deepcopy(model)
    with torch.no_grad():
        twin.decode_head[0].conv_seg.weight.zero_()
        twin.decode_head[0].forward(twin.extract_feat(x))
    tap = twin.decode_head[1].__dict__['_decoder_tap']
    assert tap is twin.decode_head[0].dropout
    assert tap is not model.decode_head[0].dropout
    # a plain MMSeg cascade cannot feed decoder features: a clear error
    cfg = copy.deepcopy(model_cfg)
    cfg['type'] = 'CascadeEncoderDecoder'
    plain = MODELS.build(cfg)
    with pytest.raises(ConfigError, match='RefineCascadeEncoderDecoder'):
        plain.loss(x, seg_samples(labels))


@pytest.mark.parametrize('kwargs', [
    dict(flip_source='teacher'),
    dict(num_inference_steps=-1),
    dict(start_step=0),
    dict(feature_noise_scale=1.5),
    dict(calibration_momentum=1.0)
])
def test_bad_arguments(kwargs):
    with pytest.raises(ConfigError, match=next(iter(kwargs))):
        _head(**kwargs)


def test_alone_in_encoder_decoder_trains_and_predicts():
    norm = dict(type='BN')
    model = MODELS.build(
        dict(
            type='EncoderDecoder',
            data_preprocessor=dict(
                type='SegDataPreProcessor', mean=[0.] * 3, std=[1.] * 3),
            backbone=dict(type='EfficientNetLite0', norm_cfg=norm),
            decode_head=dict(
                type='EdgeAwareMixDiffusionHead',
                in_channels=24,
                in_index=0,
                channels=16,
                num_classes=3,
                norm_cfg=norm,
                flip_source='prediction',  # falls back to uniform alone
                num_inference_steps=2),
            train_cfg=ConfigDict(),
            test_cfg=ConfigDict(mode='whole')))
    x = torch.rand(2, 3, 64, 64)
    labels = torch.randint(0, 3, (2, 64, 64))
    losses = model.loss(x, seg_samples(labels))
    losses['decode.loss_ce'].backward()
    model.eval()
    with torch.no_grad():
        out = model.predict(x, seg_samples(labels))
        tensor = model(x, mode='tensor')
    assert out[0].pred_sem_seg.shape == (64, 64)
    assert tensor.shape == (2, 3, 16, 16)


def test_alone_learns_to_segment_noisy_squares():
    """Denoising from the uniform mask at step T is a segmentation head:
    trained alone, it finds the squares in noisy features."""
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    head = _head(num_inference_steps=2)
    opt = torch.optim.Adam(head.parameters(), lr=1e-2)
    for _ in range(120):
        labels = _squares(8, generator=g)
        feats, _ = _toy_batch(labels, g)
        loss = head.loss(feats, seg_samples(labels), None)['loss_ce']
        opt.zero_grad()
        loss.backward()
        opt.step()
    head.eval()
    labels = _squares(16, generator=g)
    feats, _ = _toy_batch(labels, g)
    with torch.no_grad():
        pred = head.forward(feats).argmax(1)
    inter = ((pred == 1) & (labels == 1)).sum()
    union = ((pred == 1) | (labels == 1)).sum()
    assert inter / union > 0.7
    with pytest.raises(ValueError, match='alone'):
        _head(num_inference_steps=0).forward(feats)


def test_edge_band_pixel_weights_weight_the_loss():
    torch.manual_seed(0)
    head = _head(
        sampler=dict(type='EdgeBandPixelWeights', weight=3.0, width=1))
    labels = _squares(2)
    labels[0, :4] = 255
    logits = torch.randn(2, 2, 32, 32)
    weights = head.sampler.sample(logits, labels[:, None])
    band = edge_band(labels, 1)
    assert torch.equal(weights, 1 + 3.0 * band.float())
    assert weights.max() == 4 and weights.min() == 1
    weighted = head.loss_by_feat(logits, seg_samples(labels))['loss_ce']
    per_pixel = F.cross_entropy(
        logits, labels, ignore_index=255, reduction='none')
    assert torch.allclose(weighted, (per_pixel * weights).mean(), atol=1e-5)
