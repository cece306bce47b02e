"""Every config in configs/ builds its model and runs one forward pass."""
import glob
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT
from mmengine.config import Config
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules

from mmseg_viladiff.utils import adapt_cfg_to_device

CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'viladiff', '*.py')))


def test_configs_found():
    names = {osp.basename(c) for c in CONFIGS}
    assert {
        'deeplabv3p_r101_voc_1-16.py', 'deeplabv3p_r50_voc_1-16.py',
        'deeplabv3p_effnetl0_camvid_1-8.py',
        'deeplabv3p_effnetl0_camvid_full.py',
        'deeplabv3p_effnetl0_synthetic.py', 'meanteacher_r101_voc_1-16.py',
        'meanteacher_effnetl0_camvid_1-8.py',
        'meanteacher_effnetl0_camvid_1-8_diag.py',
        'meanteacher_effnetl0_synthetic.py',
        'meanteacher-diffrefine_effnetl0_camvid_1-8.py',
        'meanteacher-diffrefine_effnetl0_camvid_1-8_diag.py'
    } <= names


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds_and_forwards(path):
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(path)
    assert 'mmseg_viladiff' in cfg.custom_imports['imports']
    adapt_cfg_to_device(cfg)
    model = MODELS.build(cfg.model)  # weights are not loaded: no download
    model.eval()
    segmentor = cfg.model.get('segmentor', cfg.model)
    head = segmentor.decode_head  # a list for CascadeEncoderDecoder
    num_classes = (head[-1] if isinstance(head, list) else head).num_classes
    with torch.no_grad():
        logits = model(torch.rand(1, 3, 64, 64), mode='tensor')
    assert logits.shape == (1, num_classes, 64 // 4, 64 // 4)
    assert torch.isfinite(logits).all()


def test_variant_changes_only_its_delta():
    r101 = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/viladiff/deeplabv3p_r101_voc_1-16.py'))
    r50 = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/viladiff/deeplabv3p_r50_voc_1-16.py'))
    assert (r101.model.backbone.depth, r50.model.backbone.depth) == (101, 50)
    r50.model.backbone.depth = 101
    r50.model.pretrained = r101.model.pretrained
    assert r50.model.to_dict() == r101.model.to_dict()
    assert r50.train_dataloader.to_dict() == r101.train_dataloader.to_dict()
    assert r101.train_dataloader.dataset.split_file == \
        'splits/1-16/labeled.txt'


@pytest.mark.parametrize(
    'name',
    ['meanteacher_r101_voc_1-16.py', 'meanteacher_effnetl0_camvid_1-8.py'])
def test_mean_teacher_configs_wrap_their_supervised_base(name):
    semi = Config.fromfile(osp.join(REPO_ROOT, 'configs/viladiff', name))
    base = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/viladiff',
                 name).replace('meanteacher_r101', 'deeplabv3p_r101').replace(
                     'meanteacher_effnetl0', 'deeplabv3p_effnetl0'))
    assert semi.model.type == 'SemiEncoderDecoder'
    assert semi.model.segmentor.to_dict() == base.model.to_dict()
    assert semi.val_cfg.type == 'TeacherStudentValLoop'
    hooks = [h['type'] for h in semi.custom_hooks]
    assert 'SemiMeanTeacherHook' in hooks and 'SafeCheckpointHook' in hooks
    labeled, unlabeled = semi.train_dataloader.dataset.datasets
    assert labeled.split_file.endswith('labeled.txt')
    assert unlabeled.split_file.endswith('unlabeled.txt')
    assert unlabeled.with_label is False
