import pytest
import torch
import torch.nn as nn

from mmseg_viladiff.models.utils import frozen_bn_stats


def _net():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
        nn.BatchNorm2d(4, momentum=None)).train()


def _buffers(net):
    return {
        k: v.clone()
        for k, v in net.state_dict().items()
        if 'running' in k or 'num_batches' in k
    }


def test_frozen_bn_stats_keeps_buffers_but_normalises_with_the_batch():
    net, x = _net(), torch.rand(2, 3, 8, 8) * 5 + 3
    before = _buffers(net)
    with frozen_bn_stats(net):
        out = net(x)
    after = _buffers(net)
    assert before.keys() == after.keys() and len(before) == 6
    for k in before:  # running mean/var and num_batches_tracked
        assert torch.equal(before[k], after[k]), k
    # same output as with tracking on (batch statistics in train mode)
    ref = net(x)
    assert torch.allclose(out, ref, atol=1e-6)
    assert net[1].num_batches_tracked.item() == 1
    assert not torch.equal(net[1].running_mean, before['1.running_mean'])


def test_frozen_bn_stats_restores_the_flag_after_an_exception():
    net = _net()
    net[3].track_running_stats = False  # a layer that never tracks
    with pytest.raises(RuntimeError, match='boom'):
        with frozen_bn_stats(net):
            assert not net[1].track_running_stats
            raise RuntimeError('boom')
    assert net[1].track_running_stats
    assert not net[3].track_running_stats  # left as it was
