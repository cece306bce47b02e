"""ClassBalancedCrossEntropyLoss: numbers against torch, ignored pixels."""
import json

import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmseg_viladiff.utils import ConfigError


def _batch(num_classes=4, ignore_frac=0.3):
    torch.manual_seed(0)
    logits = torch.randn(2, num_classes, 5, 6, requires_grad=True)
    label = torch.randint(0, num_classes, (2, 5, 6))
    label[torch.rand(label.shape) < ignore_frac] = 255
    return logits, label


def test_matches_torch_weighted_mean_with_ignored_pixels():
    logits, label = _batch()
    weight = [0.5, 1.0, 2.0, 4.0]
    loss = MODELS.build(
        dict(type='ClassBalancedCrossEntropyLoss', class_weight=weight))
    got = loss(logits, label, ignore_index=255)
    expected = F.cross_entropy(
        logits, label, weight=torch.tensor(weight), ignore_index=255)
    torch.testing.assert_close(got, expected)
    got.backward()
    assert logits.grad.abs().sum() > 0
    assert loss.loss_name == 'loss_ce'


def test_mmseg_class_weight_crashes_where_ours_does_not():
    """The upstream bug this loss exists for (mmseg 1.2.2)."""
    logits, label = _batch()
    upstream = MODELS.build(
        dict(type='mmseg.CrossEntropyLoss', class_weight=[1.0] * 4))
    with pytest.raises(IndexError):
        upstream(logits, label, ignore_index=255)


def test_without_weights_is_plain_ce_over_valid_pixels():
    logits, label = _batch()
    loss = MODELS.build(dict(type='ClassBalancedCrossEntropyLoss'))
    expected = F.cross_entropy(logits, label, ignore_index=255)
    torch.testing.assert_close(loss(logits, label), expected)
    pixel_w = torch.rand(label.shape)
    valid = (label != 255).float()
    ce = F.cross_entropy(logits, label, ignore_index=255, reduction='none')
    torch.testing.assert_close(
        loss(logits, label, weight=pixel_w),
        (ce * pixel_w * valid).sum() / (pixel_w * valid).sum())


def test_all_ignored_gives_zero_with_graph():
    logits, label = _batch()
    label[:] = 255
    loss = MODELS.build(
        dict(type='ClassBalancedCrossEntropyLoss', class_weight=[1.0] * 4))
    out = loss(logits, label)
    assert out.item() == 0
    out.backward()  # DDP-safe: every parameter still in the graph


def test_class_weight_file(tmp_path):
    path = tmp_path / 'w.json'
    path.write_text(json.dumps(dict(class_weight=[1, 2, 3, 4], method='x')))
    loss = MODELS.build(
        dict(type='ClassBalancedCrossEntropyLoss', class_weight=str(path)))
    assert loss.class_weight.tolist() == [1, 2, 3, 4]
    with pytest.raises(ConfigError, match='does not exist'):
        MODELS.build(
            dict(
                type='ClassBalancedCrossEntropyLoss',
                class_weight=str(tmp_path / 'missing.json')))
    bad = tmp_path / 'bad.json'
    bad.write_text('[1, 2]')
    with pytest.raises(ConfigError, match='bad.json'):
        MODELS.build(
            dict(type='ClassBalancedCrossEntropyLoss', class_weight=str(bad)))
    logits, label = _batch(num_classes=3)
    with pytest.raises(ConfigError, match='3 classes'):
        loss(logits, label)
