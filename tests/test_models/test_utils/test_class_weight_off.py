import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.models.losses import CrossEntropyLoss

from mmseg_viladiff.models.losses import ClassBalancedCrossEntropyLoss
from mmseg_viladiff.models.utils import class_weights_off

WEIGHT = [1.0, 6.0, 0.5]


def _heads():
    heads = nn.ModuleDict(
        dict(
            ours=ClassBalancedCrossEntropyLoss(class_weight=WEIGHT),
            mmseg=CrossEntropyLoss(class_weight=WEIGHT),
            plain=ClassBalancedCrossEntropyLoss()))
    return heads


def _data():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 3, 5, 5, generator=g)
    labels = torch.randint(0, 3, (2, 5, 5), generator=g)
    labels[0, 0] = 255
    return logits, labels


def test_losses_are_unweighted_inside_and_weighted_after():
    heads, (logits, labels) = _heads(), _data()
    plain = F.cross_entropy(logits, labels, ignore_index=255)
    weighted = F.cross_entropy(
        logits, labels, weight=torch.tensor(WEIGHT), ignore_index=255)
    assert not torch.allclose(plain, weighted)
    with class_weights_off(heads):
        assert heads['ours'].class_weight is None
        assert heads['mmseg'].class_weight is None
        assert torch.allclose(heads['ours'](logits, labels), plain)
        assert torch.allclose(heads['plain'](logits, labels), plain)
    assert torch.allclose(heads['ours'](logits, labels), weighted)
    assert heads['mmseg'].class_weight == WEIGHT
    assert 'class_weight' in heads['ours']._buffers  # moves with .to()


def test_weights_restored_when_the_block_raises():
    heads = _heads()
    with pytest.raises(RuntimeError, match='boom'):
        with class_weights_off(heads):
            raise RuntimeError('boom')
    assert heads['ours'].class_weight.tolist() == WEIGHT
    assert heads['mmseg'].class_weight == WEIGHT
    assert heads['plain'].class_weight is None
