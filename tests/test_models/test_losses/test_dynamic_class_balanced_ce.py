"""DyCE: numbers against torch and by hand, the running frequency buffer,
ignored pixels and its collective."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

import mmseg_viladiff.models.losses.dynamic_class_balanced_ce as dyce_module
from mmseg_viladiff.models.utils import class_weights_off
from mmseg_viladiff.utils import ConfigError


def _dyce(num_classes=3, **kwargs):
    return MODELS.build(
        dict(type='DynamicClassBalancedCELoss', num_classes=num_classes,
             **kwargs))


def _labels(counts, ignored=0, seed=0):
    """(2, H, W) labels holding ``counts[c]`` pixels of class c and
    ``ignored`` pixels of 255, in a random order."""
    flat = torch.cat([torch.full((n, ), c) for c, n in enumerate(counts)] +
                     [torch.full((ignored, ), 255)])
    g = torch.Generator().manual_seed(seed)
    flat = flat[torch.randperm(flat.numel(), generator=g)]
    return flat.view(2, -1, 10)


def _logits(labels, num_classes=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(
        labels.shape[0], num_classes, *labels.shape[1:],
        generator=g).requires_grad_()


@pytest.fixture
def counted_all_reduce(monkeypatch):
    """Replaces the loss module's all_reduce; records each call."""
    calls = []

    def fake(data, op='sum', group=None):
        calls.append((data.clone(), op))

    monkeypatch.setattr(dyce_module, 'all_reduce', fake)
    return calls


def test_uniform_frequencies_give_plain_ce():
    # 20 pixels of each class + 20 ignored: the batch frequency is uniform
    labels = _labels([20, 20, 20], ignored=20)
    logits = _logits(labels)
    loss = _dyce(momentum=0.0)
    got = loss(logits, labels, ignore_index=255)
    torch.testing.assert_close(loss.class_frequency,
                               torch.full((3, ), 1 / 3))
    torch.testing.assert_close(loss.current_class_weight, torch.ones(3))
    expected = F.cross_entropy(logits, labels, ignore_index=255)
    torch.testing.assert_close(got, expected)
    got.backward()
    assert logits.grad.abs().sum() > 0
    # untrained start (uniform prior) in eval mode: plain CE, no update
    loss = _dyce().eval()
    labels = _labels([70, 9, 1])
    torch.testing.assert_close(
        loss(logits.detach(), labels),
        F.cross_entropy(logits.detach(), labels, ignore_index=255))
    assert loss.num_updates.item() == 0


@pytest.mark.parametrize('omega', [0.0, 0.5, 1.0])
def test_rare_class_weight_is_the_stated_formula(omega):
    # frequencies 0.7, 0.2, 0.1 over the 100 valid pixels
    labels = _labels([70, 20, 10], ignored=20)
    logits = _logits(labels)
    loss = _dyce(omega=omega, momentum=0.0)
    got = loss(logits, labels)
    # w_c = (K f_c)^(omega - 1), by hand
    by_hand = torch.tensor([(3 * 0.7)**(omega - 1), (3 * 0.2)**(omega - 1),
                            (3 * 0.1)**(omega - 1)])
    torch.testing.assert_close(loss.current_class_weight, by_hand)
    # the rare class against the common one: (f_common / f_rare)^(1-omega)
    ratio = loss.current_class_weight[2] / loss.current_class_weight[0]
    assert ratio.item() == pytest.approx(7.0**(1 - omega), rel=1e-5)
    # the loss: weighted mean over valid pixels, as torch's
    expected = F.cross_entropy(
        logits, labels, weight=by_hand, ignore_index=255)
    torch.testing.assert_close(got, expected)
    ce = F.cross_entropy(logits, labels, ignore_index=255, reduction='none')
    valid = labels != 255
    w = by_hand[labels.clamp(max=2)] * valid
    torch.testing.assert_close(got, (w * ce).sum() / w.sum())
    if omega < 1:  # the rare class's pixels count more than plain CE's
        plain = F.cross_entropy(logits, labels, ignore_index=255)
        assert not torch.allclose(got, plain)


def test_frequency_is_a_bias_corrected_ema():
    loss = _dyce(momentum=0.5)
    q1 = torch.tensor([0.7, 0.2, 0.1])
    q2 = torch.tensor([0.2, 0.3, 0.5])
    loss(_logits(_labels([70, 20, 10])), _labels([70, 20, 10]))
    torch.testing.assert_close(loss.class_frequency, q1)  # a_1 = 1
    loss(_logits(_labels([20, 30, 50])), _labels([20, 30, 50]))
    # (m (1 - m) q1 + (1 - m) q2) / (1 - m^2) = q1 / 3 + 2 q2 / 3
    torch.testing.assert_close(loss.class_frequency, q1 / 3 + 2 * q2 / 3)
    assert loss.num_updates.item() == 2
    # a class absent so far gets the floor in its weight
    loss = _dyce(momentum=0.0, min_frequency=1e-3)
    loss(_logits(_labels([90, 10, 0])), _labels([90, 10, 0]))
    assert loss.class_frequency[2].item() == 0
    assert loss.current_class_weight[2].item() == pytest.approx(
        (3e-3)**-0.5)


def test_ignored_pixels_never_crash_nor_count():
    labels = _labels([50, 0, 30], ignored=40)
    logits = _logits(labels)
    loss = _dyce(momentum=0.0)
    out = loss(logits, labels, ignore_index=255)
    assert torch.isfinite(out)
    torch.testing.assert_close(loss.class_frequency,
                               torch.tensor([50 / 80, 0.0, 30 / 80]))
    before = loss.class_frequency.clone()
    labels[:] = 255
    out = loss(logits, labels)
    assert out.item() == 0
    out.backward()  # DDP-safe: the logits stay in the graph
    assert torch.equal(loss.class_frequency, before)
    assert loss.num_updates.item() == 1
    # pixel weights multiply the class weights; a custom ignore index
    labels = _labels([50, 20, 30], ignored=20)
    pixel_w = torch.rand(labels.shape)
    loss = _dyce(momentum=0.0)
    got = loss(logits, labels, weight=pixel_w)
    ce = F.cross_entropy(logits, labels, ignore_index=255, reduction='none')
    w = loss.current_class_weight[labels.clamp(max=2)] * pixel_w * (
        labels != 255)
    torch.testing.assert_close(got, (w * ce).sum() / w.sum())


def test_hard_ratio_averages_over_the_hardest_valid_pixels():
    labels = _labels([50, 30, 20], ignored=20)
    logits = _logits(labels)
    loss = _dyce(momentum=0.0, hard_ratio=0.25)
    got = loss(logits, labels)
    ce = F.cross_entropy(logits, labels, ignore_index=255, reduction='none')
    valid = labels != 255
    top = ce[valid].topk(25).indices  # ceil(0.25 * 100)
    w = loss.current_class_weight[labels[valid]]
    # frequencies still count every valid pixel
    torch.testing.assert_close(loss.class_frequency,
                               torch.tensor([0.5, 0.3, 0.2]))
    expected = (w[top] * ce[valid][top]).sum() / w[top].sum()
    torch.testing.assert_close(got, expected)
    full = _dyce(momentum=0.0)(logits, labels)
    assert got.item() > full.item()  # the hardest pixels have larger CE


def test_state_dict_round_trip_resumes_exactly():
    loss = _dyce(momentum=0.9)
    for seed, counts in enumerate(([70, 20, 10], [10, 10, 80])):
        labels = _labels(counts, ignored=20, seed=seed)
        loss(_logits(labels), labels)
    state = loss.state_dict()
    assert set(state) == {'class_frequency', 'num_updates'}
    resumed = _dyce(momentum=0.9)
    resumed.load_state_dict(state)
    assert torch.equal(resumed.class_frequency, loss.class_frequency)
    assert resumed.num_updates.item() == 2
    labels = _labels([30, 30, 40], seed=5)
    logits = _logits(labels)
    assert torch.equal(loss(logits, labels), resumed(logits, labels))
    assert torch.equal(loss.class_frequency, resumed.class_frequency)


def test_one_all_reduce_per_forward_even_without_valid_pixels(
        counted_all_reduce):
    loss = _dyce(momentum=0.0)
    labels = torch.full((2, 4, 10), 255)
    loss(_logits(labels), labels)
    assert len(counted_all_reduce) == 1
    counts, op = counted_all_reduce[0]
    assert op == 'sum' and counts.shape == (3, ) and counts.sum() == 0
    assert loss.num_updates.item() == 0  # no rank saw a pixel
    labels = _labels([20, 20, 20])
    loss(_logits(labels), labels)
    assert len(counted_all_reduce) == 2
    # no update, so no collective: eval mode, weights switched off (the
    # same on every rank, as both follow the model and the config)
    loss.eval()
    loss(_logits(labels), labels)
    loss.train()
    with class_weights_off(loss):
        loss(_logits(labels), labels)
    assert len(counted_all_reduce) == 2


def test_frequencies_come_from_the_sum_over_ranks(monkeypatch):
    """This rank sees only class 0; the other rank's counts arrive through
    the all_reduce, and the frequencies are those of the union."""
    other_rank = torch.tensor([0., 30., 10.], dtype=torch.double)

    def two_ranks(data, op='sum', group=None):
        data += other_rank

    monkeypatch.setattr(dyce_module, 'all_reduce', two_ranks)
    loss = _dyce(momentum=0.0)
    labels = _labels([60, 0, 0])
    loss(_logits(labels), labels)
    torch.testing.assert_close(loss.class_frequency,
                               torch.tensor([0.6, 0.3, 0.1]))


def test_weights_off_gives_unweighted_ce_and_keeps_the_frequency():
    loss = _dyce(momentum=0.0)
    labels = _labels([70, 20, 10])
    logits = _logits(labels)
    loss(logits, labels)
    before = loss.class_frequency.clone()
    other = _labels([10, 10, 80])
    with class_weights_off(torch.nn.ModuleList([loss])):
        assert loss.class_weighting is False
        torch.testing.assert_close(
            loss(logits, other),
            F.cross_entropy(logits, other, ignore_index=255))
    assert loss.class_weighting is True
    assert torch.equal(loss.class_frequency, before)
    assert loss.num_updates.item() == 1


def test_usable_as_loss_decode_of_an_mmseg_head():
    head = MODELS.build(
        dict(
            type='FCNHead',
            in_channels=8,
            channels=4,
            num_convs=1,
            concat_input=False,
            num_classes=3,
            norm_cfg=dict(type='BN'),
            loss_decode=[
                dict(type='DynamicClassBalancedCELoss', num_classes=3),
                dict(type='CrossEntropyLoss', loss_weight=0.5)
            ]))
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    samples = []
    for i in range(2):
        s = SegDataSample(metainfo=dict(img_shape=(8, 8)))
        label = torch.randint(0, 3, (1, 8, 8))
        label[:, :2] = 255
        s.gt_sem_seg = PixelData(data=label)
        samples.append(s)
    losses = head.loss([torch.rand(2, 8, 8, 8)], samples, dict())
    assert {'loss_dyce', 'loss_ce'} <= set(losses)
    assert torch.isfinite(losses['loss_dyce'])
    assert head.loss_decode[0].num_updates.item() == 1


@pytest.mark.parametrize('kwargs, match', [
    (dict(num_classes=0), 'num_classes'),
    (dict(omega=1.5), 'omega'),
    (dict(momentum=1.0), 'momentum'),
    (dict(min_frequency=0.0), 'min_frequency'),
    (dict(hard_ratio=0.0), 'hard_ratio'),
    (dict(loss_name='dyce'), 'loss_'),
])
def test_bad_arguments_name_themselves(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        MODELS.build(
            dict(
                dict(type='DynamicClassBalancedCELoss', num_classes=3),
                **kwargs))


def test_class_count_mismatch_is_a_config_error():
    loss = _dyce(num_classes=4)
    labels = _labels([10, 10, 0])
    with pytest.raises(ConfigError, match='num_classes=4.*3 classes'):
        loss(_logits(labels), labels)


def test_hardest_pixels_rounds_up():
    from mmseg_viladiff.models.losses.dynamic_class_balanced_ce import \
        hardest_pixels
    ce = torch.arange(10.).view(1, 2, 5)
    valid = torch.ones(1, 2, 5, dtype=torch.bool)
    valid[0, 1, 4] = False  # the largest loss, but ignored
    keep = hardest_pixels(ce, valid, 0.25)  # ceil(2.25) = 3 of 9
    assert keep.sum() == 3 and not keep[0, 1, 4]
    assert set(ce[keep].tolist()) == {6., 7., 8.}
    assert math.ceil(0.25 * 9) == 3
