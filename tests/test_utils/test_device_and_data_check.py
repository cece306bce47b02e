import gc
import os.path as osp
import types

import pytest
import torch
import torch.distributed as dist
from conftest import REPO_ROOT
from mmengine.config import Config
from torch.nn.parallel import DistributedDataParallel

from mmseg_viladiff.utils import (DataError, adapt_cfg_to_device,
                                  check_data_paths, close_distributed)

CAMVID = osp.join(REPO_ROOT,
                  'configs/baselines/deeplabv3p_effnetl0_camvid_1-8.py')


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU behaviour')
def test_cpu_adaptation_replaces_sync_bn_and_sets_gloo():
    cfg = Config.fromfile(CAMVID)
    assert cfg.model.backbone.norm_cfg.type == 'SyncBN'
    adapt_cfg_to_device(cfg, launcher='pytorch')
    assert 'SyncBN' not in str(cfg.model.to_dict())
    assert cfg.model.decode_head.norm_cfg.type == 'BN'
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg == dict(
        type='MMDistributedDataParallel', device_ids=None,
        broadcast_buffers=False, find_unused_parameters=False)


def test_close_distributed_frees_a_finished_runner_before_the_destroy(
        tmp_path, monkeypatch):
    """A finished Runner (a reference cycle) still holds its DDP wrapper,
    which holds the group: it must be gone when the group is destroyed,
    or the group lives on into interpreter shutdown (a rank abort)."""
    dist.init_process_group(
        'gloo', init_method=f'file://{tmp_path}/store', rank=0,
        world_size=1)
    live_at_destroy = []
    destroy = dist.destroy_process_group

    def spy(*args, **kwargs):
        live_at_destroy.append(
            sum(isinstance(o, DistributedDataParallel)
                for o in gc.get_objects()))
        destroy(*args, **kwargs)

    monkeypatch.setattr(dist, 'destroy_process_group', spy)
    runner = types.SimpleNamespace(
        model=DistributedDataParallel(torch.nn.Linear(2, 2)))
    runner.itself = runner
    del runner
    close_distributed()
    assert live_at_destroy == [0]
    assert not dist.is_initialized()


def test_missing_data_root_is_reported_with_key_and_hint(tmp_path):
    cfg = Config.fromfile(CAMVID)
    missing = str(tmp_path / 'nowhere')
    cfg.train_dataloader.dataset.dataset.data_root = missing
    with pytest.raises(DataError) as err:
        check_data_paths(cfg, ['train_dataloader'])
    msg = str(err.value)
    assert 'CamVidDataset (train_dataloader.dataset.dataset)' in msg
    assert missing in msg and 'ln -s' in msg
    assert '--cfg-options train_dataloader.dataset.dataset.data_root=' in msg


def test_present_data_passes(camvid_root):
    cfg = Config.fromfile(CAMVID)
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = camvid_root
    cfg.train_dataloader.dataset.dataset.data_root = camvid_root
    check_data_paths(cfg)  # raises on any missing path


def test_checkpoint_hooks_added_when_a_config_replaces_the_list():
    from mmseg_viladiff.utils import ensure_checkpoint_hooks
    cfg = Config(dict(custom_hooks=[dict(type='SemiMeanTeacherHook')]))
    ensure_checkpoint_hooks(cfg)
    assert [h['type'] for h in cfg.custom_hooks] == [
        'SemiMeanTeacherHook', 'SafeCheckpointHook', 'RandomStateHook'
    ]
    ensure_checkpoint_hooks(cfg)  # idempotent
    assert len(cfg.custom_hooks) == 3
