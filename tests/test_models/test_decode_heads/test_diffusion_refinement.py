"""Tests of EdgeAwareMixDiffusionHead that can fail on issue 14's bugs:

* training and sampling hand the denoiser inputs of the same kind (soft
  masks; at t = T with 'prediction' exactly the first head's softmax;
  unit-RMS features that no learnable scale lifts above the noise);
* refinement of a *realistic* first head (a coarse model trained on the
  same data, ``flip_source='prediction'``, start at T) from features that
  do not contain the answer (a noisy image) fixes over three times as many
  boundary pixels as it breaks.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from helpers import diffusion_head, seg_samples

from mmseg_viladiff.models.decode_heads import edge_band


def _head(**kwargs):
    """The refiner of these tests: 2 input channels, 'prediction' flips."""
    return diffusion_head(
        **dict(dict(in_channels=2, flip_source='prediction'), **kwargs))


def _scene(n, g, size=32, sigma=0.7):
    """Random rectangles (class 1 on 0) and a noisy image of them.

    Returns:
        tuple[Tensor]: labels (n, size, size) long; image (n, 2, size, size):
        channel 0 ``label + sigma * noise`` (a pixel alone is right ~76 %
        of the time: the answer is not in the features), channel 1 noise.
    """
    labels = torch.zeros(n, size, size, dtype=torch.long)
    for i in range(n):
        h, w = torch.randint(size // 4, size // 2 + 4, (2, ), generator=g)
        y = torch.randint(0, size - h + 1, (1, ), generator=g)
        x = torch.randint(0, size - w + 1, (1, ), generator=g)
        labels[i, y:y + h, x:x + w] = 1
    image = torch.randn(n, 2, size, size, generator=g)
    image[:, 0] = labels.float() + sigma * image[:, 0]
    return labels, image


class CoarseHead(nn.Module):
    """A realistic first head: it sees the image at stride 4 and upsamples
    its logits, so its mistakes lie along object boundaries."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(2, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 2, 1))

    def forward(self, image):
        logits = self.net(F.avg_pool2d(image, 4))  # (B, 2, H/4, W/4)
        return F.interpolate(
            logits, size=image.shape[2:], mode='bilinear',
            align_corners=False)


def _train_first_head(g, iters=150):
    head = CoarseHead()
    opt = torch.optim.Adam(head.parameters(), lr=1e-2)
    for _ in range(iters):
        labels, image = _scene(8, g)
        loss = F.cross_entropy(head(image), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return head.eval()


def test_training_and_sampling_feed_the_same_kind_of_input():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    head = _head(num_inference_steps=3)
    labels, image = _scene(4, g)
    first = torch.randn(4, 2, 32, 32)
    seen = []
    denoise = head.denoise

    def spy(feats, mask, t):
        seen.append((feats, mask, t))
        return denoise(feats, mask, t)

    head.denoise = spy
    head.eval()
    with torch.no_grad():
        head([image], first)
    t_max = torch.full((4, ), head.num_timesteps, dtype=torch.long)
    with torch.no_grad():
        clean = head._features([image])
        train_feats, train_mask = head.training_inputs(
            clean, labels, first, t_max)
    # sampling starts at T from the first head's softmax, the very mask
    # training reads at T
    assert [int(t[0]) for _, _, t in seen] == [20, 13, 7]
    assert torch.allclose(seen[0][1], first.softmax(1), atol=1e-6)
    assert torch.allclose(train_mask, first.softmax(1), atol=1e-4)
    # every mask, at every step of both, is a distribution per pixel
    for mask in [m for _, m, _ in seen] + [train_mask]:
        assert mask.min() >= 0
        assert torch.allclose(mask.sum(1), torch.ones(4, 32, 32), atol=1e-5)
    # a mid-step training mask is soft as well (not one-hot)
    mid = head.training_inputs(clean, labels, first,
                               torch.full((4, ), 10))[1]
    assert ((mid > 0.01) & (mid < 0.99)).float().mean() > 0.5
    # features: unit RMS at inference, the same second moment in training
    ms_infer = seen[0][0].pow(2).mean(1)  # (B, h, w)
    # (up to pixels whose ReLU features are all ~0: eps keeps them ~0)
    assert ((ms_infer - 1).abs() < 1e-2).float().mean() > 0.99
    assert abs(train_feats.pow(2).mean().item() - 1) < 0.05
    # ... and no learnable scale changes the condition the noise is added
    # to: a 100x BN weight gives the same features (where the projection
    # is not ~0, which eps keeps near 0)
    with torch.no_grad():
        raw = head.feature_proj(image).pow(2).mean(1)  # (B, h, w)
        head.feature_proj.bn.weight.mul_(100)
        same = (head._features([image]) - clean).abs().amax(1) < 1e-3
    assert same[raw > 1e-2].all() and (raw > 1e-2).float().mean() > 0.8


def test_refinement_of_a_realistic_first_head_fixes_more_than_it_breaks():
    """On the edge band the refined labels must fix over 3 times as many
    pixels as they break, and 5 % of the band net. Measured on this seed:
    781 fixed / 176 broken of 6455 (seeds 0-3: ratio 3.6-5.0, net
    7.6-9.4 %); the head before issue 14 (one-hot training, start at
    T // 2, scalable feature noise) 816 / 331, ratio 2.5 (seeds 0-3:
    1.5-4.3), and this head with uniform flips 172 / 110: both fail."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    first_head = _train_first_head(g)
    head = _head(num_inference_steps=3, edge_gain=2.0, calibrate=False)
    assert head.start_step == head.num_timesteps
    opt = torch.optim.Adam(head.parameters(), lr=5e-3)
    head.train()
    for _ in range(200):
        labels, image = _scene(8, g)
        with torch.no_grad():
            first = first_head(image)
        loss = head.loss([image], first, seg_samples(labels), None)['loss_ce']
        opt.zero_grad()
        loss.backward()
        opt.step()
    head.eval()
    labels, image = _scene(32, g)
    with torch.no_grad():
        first = first_head(image)
        refined = head([image], first)
    band = edge_band(labels, width=2)
    right_first = first.argmax(1) == labels
    right_refined = refined.argmax(1) == labels
    fixed = (band & ~right_first & right_refined).sum().item()
    broken = (band & right_first & ~right_refined).sum().item()
    n = band.sum().item()
    acc_first = right_first[band].float().mean().item()
    acc_refined = right_refined[band].float().mean().item()
    # the first head is wrong often enough on the band to leave room
    assert acc_first < 0.9, acc_first
    assert fixed > 3 * broken and (fixed - broken) / n > 0.05, \
        (fixed, broken, n, acc_first, acc_refined)
    # and it does not pay for it inside objects
    inside = ~band
    assert right_refined[inside].float().mean() >= \
        right_first[inside].float().mean() - 0.01
