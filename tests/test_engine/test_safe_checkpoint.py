import copy
import os.path as osp
import pickle

import pytest
import torch
from helpers import tiny_synthetic_cfg
from mmengine.runner import Runner

from mmseg_viladiff.engine import SAFE_GLOBALS
from mmseg_viladiff.utils import adapt_cfg_to_device


def _train(cfg):
    adapt_cfg_to_device(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def test_safe_globals_exclude_callables_that_run_code():
    import builtins
    names = {getattr(g, '__name__', str(g)) for g in SAFE_GLOBALS}
    assert builtins.getattr not in SAFE_GLOBALS
    assert not names & {'getattr', 'eval', 'exec', 'system', 'HistoryBuffer'}


def test_checkpoint_loads_with_weights_only_and_resumes(
        synthetic_root, tmp_path):
    cfg = tiny_synthetic_cfg(synthetic_root, str(tmp_path / 'a'), max_iters=2)
    runner = _train(cfg)
    ckpt = osp.join(cfg.work_dir, 'iter_2.pth')
    # torch's default (weights_only=True) with only the registered globals
    state = torch.load(ckpt, map_location='cpu')
    assert state['meta']['iter'] == 2
    assert 'train/loss' in state['message_hub']['log_scalars']
    trained = copy.deepcopy(runner.model.state_dict())

    # resume from it and train 2 more iterations
    cfg2 = tiny_synthetic_cfg(synthetic_root, str(tmp_path / 'a'), max_iters=4)
    cfg2.resume = True
    cfg2.load_from = ckpt
    adapt_cfg_to_device(cfg2)
    runner2 = Runner.from_cfg(cfg2)
    runner2.load_or_resume()
    assert runner2.iter == 2
    for key, value in runner2.model.state_dict().items():
        assert torch.equal(value, trained[key]), key
    hub = runner2.message_hub.get_scalar('train/loss')
    assert hub.data[0].shape[0] == 2  # log history restored: 2 iterations
    runner2.train()
    assert runner2.iter == 4
    assert osp.isfile(osp.join(cfg.work_dir, 'iter_4.pth'))


def test_without_the_hook_torch_refuses_the_checkpoint(synthetic_root,
                                                       tmp_path):
    cfg = tiny_synthetic_cfg(synthetic_root, str(tmp_path / 'b'), max_iters=1)
    cfg.custom_hooks = []
    _train(cfg)
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        torch.load(osp.join(cfg.work_dir, 'iter_1.pth'), map_location='cpu')
