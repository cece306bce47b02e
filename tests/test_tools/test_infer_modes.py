"""tools/test_infer_modes.py: one VL checkpoint tested in each inference
mode, side by side."""
import copy
import json
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT
from helpers import VILADIFF_SYNTHETIC_CONFIG, tiny_semi_cfg
from mmengine.config import Config
from mmseg.registry import MODELS
from tools_loader import load_tool

from mmseg_viladiff.utils import ConfigError, adapt_cfg_to_device

infer_modes = load_tool('test_infer_modes')

CAMVID_VL = osp.join(REPO_ROOT,
                     'configs/viladiff/meanteacher-vl_effnetl0_camvid_1-8.py')
CAMVID_MT = osp.join(REPO_ROOT,
                     'configs/viladiff/meanteacher_effnetl0_camvid_1-8.py')


def test_the_infer_mode_key_of_semi_and_plain_models():
    cfg = Config.fromfile(CAMVID_VL)
    assert infer_modes.infer_mode_key(cfg) == \
        'model.segmentor.neck.infer_mode'
    plain = Config(dict(model=copy.deepcopy(cfg.model.segmentor)))
    assert infer_modes.infer_mode_key(plain) == 'model.neck.infer_mode'
    with pytest.raises(ConfigError, match='no VLFusionNeck'):
        infer_modes.infer_mode_key(Config.fromfile(CAMVID_MT))


def test_each_mode_is_tested_on_the_chosen_split(tmp_path, synthetic_root):
    cfg = tiny_semi_cfg(
        synthetic_root, str(tmp_path / 'w'), config=VILADIFF_SYNTHETIC_CONFIG)
    config = str(tmp_path / 'vl.py')
    cfg.dump(config)
    model_cfg = copy.deepcopy(cfg.model)
    adapt_cfg_to_device(Config(dict(model=model_cfg)))
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    for attn in model.teacher.neck.caption_attn.values():
        # the caption path as after training
        torch.nn.init.normal_(attn.out.weight)
    ckpt = str(tmp_path / 'vl.pth')
    torch.save(dict(state_dict=model.state_dict(), meta={}), ckpt)

    args = infer_modes.parse_args([config, ckpt, '--split', 'val'])
    mode_cfg = infer_modes.mode_config(args, 'class', str(tmp_path / 'm'))
    assert mode_cfg.model.segmentor.neck.infer_mode == 'class'
    assert mode_cfg.test_dataloader == mode_cfg.val_dataloader

    out = str(tmp_path / 'modes.json')
    infer_modes.main([
        config, ckpt, '--split', 'val', '--modes', 'caption', 'vision',
        '--work-dir',
        str(tmp_path / 'modes'), '--out', out
    ])
    with open(out) as f:
        result = json.load(f)
    assert result['split'] == 'val'
    assert list(result['modes']) == ['caption', 'vision']
    for metrics in result['modes'].values():
        assert 0 <= metrics['mIoU'] <= 100
    assert all(osp.isdir(tmp_path / 'modes' / m) for m in result['modes'])
