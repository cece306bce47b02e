import copy
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from mmseg_viladiff.engine import SemiMeanTeacherHook, ema_update
from mmseg_viladiff.utils import ConfigError


class Toy(nn.Module):

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 1)
        self.bn = nn.BatchNorm2d(2)


class ToySemi(nn.Module):

    def __init__(self):
        super().__init__()
        self.student, self.teacher = Toy(), Toy()
        self.iters = []

    def set_train_iter(self, i):
        self.iters.append(i)


def _runner(model):
    hub = SimpleNamespace(scalars={})
    hub.update_scalar = lambda k, v: hub.scalars.__setitem__(k, v)
    return SimpleNamespace(model=model, iter=0, message_hub=hub)


def _train_step(model, seed):
    """Change the student's params and BN buffers like a training step."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.student.parameters():
            p.add_(torch.randn(p.shape, generator=g))
    model.student.train()
    model.student.bn(torch.randn(4, 2, 3, 3, generator=g))


@pytest.mark.parametrize('buffer_mode', ['average', 'copy'])
def test_ema_matches_the_expected_average(buffer_mode):
    torch.manual_seed(0)
    model = ToySemi()
    hook = SemiMeanTeacherHook(momentum=0.9, buffer_mode=buffer_mode)
    runner = _runner(model)
    hook.before_train(runner)  # teacher := student
    expected = {
        k: v.clone().double()
        for k, v in model.student.state_dict().items()
    }
    assert all(
        torch.equal(model.teacher.state_dict()[k],
                    model.student.state_dict()[k]) for k in expected)
    for it in range(5):
        runner.iter = it
        hook.before_train_iter(runner, it)
        _train_step(model, seed=it)
        hook.after_train_iter(runner, it)
        m = min(1 - 1 / (it + 1), 0.9)  # warm-up: 0, 1/2, 2/3, 3/4, 4/5
        for k, v in model.student.state_dict().items():
            is_param = k in dict(model.student.named_parameters())
            if v.dtype.is_floating_point and (is_param
                                              or buffer_mode == 'average'):
                expected[k] = m * expected[k] + (1 - m) * v.double()
            else:
                expected[k] = v.clone().double()
        assert runner.message_hub.scalars['train/ema_momentum'] == \
            pytest.approx(m)
    assert model.iters == [0, 1, 2, 3, 4]
    for k, v in model.teacher.state_dict().items():
        assert torch.allclose(v.double(), expected[k], atol=1e-6), k
    # the last student step differs from the teacher: it is a real average
    assert not torch.allclose(model.teacher.conv.weight,
                              model.student.conv.weight)


def test_momentum_warmup_and_interval():
    hook = SemiMeanTeacherHook(momentum=0.99, interval=2)
    assert hook.momentum_at(0) == 0.0
    assert hook.momentum_at(3) == pytest.approx(0.75)
    assert hook.momentum_at(10_000) == 0.99
    assert SemiMeanTeacherHook(0.99, warmup=False).momentum_at(1) == 0.99
    model = ToySemi()
    runner = _runner(model)
    before = copy.deepcopy(model.teacher.state_dict())
    _train_step(model, 0)
    runner.iter = 0  # first iteration: (0 + 1) % 2 != 0, no update
    hook.after_train_iter(runner, 0)
    assert all(
        torch.equal(v, before[k])
        for k, v in model.teacher.state_dict().items())


def test_ema_update_copies_integer_buffers():
    a, b = Toy(), Toy()
    b.bn.num_batches_tracked.fill_(7)
    ema_update(a, b, momentum=0.5)
    assert a.bn.num_batches_tracked.item() == 7


@pytest.mark.parametrize('kwargs, key', [
    (dict(momentum=1.0), 'momentum'),
    (dict(momentum=0.0), 'momentum'),
    (dict(interval=0), 'interval'),
    (dict(buffer_mode='mean'), 'buffer_mode'),
])
def test_hook_validates_arguments(kwargs, key):
    with pytest.raises(ConfigError, match=f'SemiMeanTeacherHook.{key}'):
        SemiMeanTeacherHook(**kwargs)


def test_hook_needs_a_teacher():
    with pytest.raises(TypeError, match='teacher'):
        SemiMeanTeacherHook().before_train(_runner(Toy()))
