"""tools/head_cost.py: a decode head's parameters and multiply-adds."""
import os.path as osp

import pytest
from conftest import REPO_ROOT
from tools_loader import load_tool

from mmseg_viladiff.utils import ConfigError

head_cost = load_tool('head_cost')
BASELINE = osp.join(REPO_ROOT, 'configs', 'baselines',
                    'deeplabv3p_effnetl0_camvid_1-8.py')


def test_deeplabv3p_head_cost_matches_a_hand_count():
    """DeepLabV3+'s head on the CamVid 192x192 crops (stride-16 level
    12x12x320, stride-4 level 48x48x24), counted by hand in MMac: ASPP
    bottleneck 3x3 640->128 at 144 px 106, ASPP branches 25, c1 1x1 2.7,
    two depthwise-separable 3x3 at 2304 px (176->128, 128->128) 96,
    conv_seg 128->11 3.2: about 233."""
    cost = head_cost.head_cost(BASELINE, (192, 192), batch=2, repeats=1)
    assert cost['gmac'] == pytest.approx(0.233, abs=0.004)
    assert cost['params'] == pytest.approx(0.999611, abs=1e-6)
    assert cost['seconds'] > 0
    # per image: independent of the batch; convolutions scale with area
    half = head_cost.head_cost(BASELINE, (96, 96), batch=3, repeats=1)
    assert half['gmac'] == pytest.approx(cost['gmac'] / 4, rel=0.02)


def test_batch_of_one_is_refused():
    with pytest.raises(ConfigError, match='--batch must be >= 2'):
        head_cost.head_cost(BASELINE, batch=1)


def test_a_cascade_counts_every_head():
    """The refining cascade (DeepLabV3+ then the diffusion head, 3 steps):
    the first head's cost plus the refiner's, which runs on top."""
    plain = head_cost.head_cost(BASELINE, (96, 96), batch=2, repeats=1)
    cascade = head_cost.head_cost(
        osp.join(REPO_ROOT, 'configs', 'viladiff',
                 'diffrefine-sup_effnetl0_camvid_1-8.py'), (96, 96),
        batch=2,
        repeats=1)
    assert cascade['params'] > plain['params'] + 0.01
    assert cascade['gmac'] > plain['gmac'] * 1.2
