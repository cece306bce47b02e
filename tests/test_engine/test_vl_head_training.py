"""The semivl/hiervl CamVid decode heads in the mean teacher, through the
Runner on the synthetic data: they train, their losses are logged and
finite, and the EMA teacher's pseudo labels come from their logits."""
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT
from helpers import save_tiny_clip, tiny_semi_cfg
from mmengine.config import Config
from mmengine.runner import Runner

from mmseg_viladiff.utils import adapt_cfg_to_device

SYNTHETIC_VOCABULARY = dict(
    name='synthetic', classes=['background', 'disc', 'square', 'triangle'])


@pytest.mark.slow
@pytest.mark.parametrize('algo, extra',
                         [('semivl', ()),
                          ('hiervl', ('loss_relevance', 'loss_query_align'))])
def test_vl_head_trains_in_the_mean_teacher(algo, extra, synthetic_root,
                                            tmp_path):
    cfg = tiny_semi_cfg(synthetic_root, str(tmp_path / 'w'), max_iters=2)
    camvid = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'viladiff',
                 f'{algo}_effnetl0_camvid_1-8.py'))
    head = camvid.model.segmentor.decode_head
    head.promptor.vocabulary = SYNTHETIC_VOCABULARY
    head.promptor.text_encoder = dict(  # replaced, not merged
        type='OpenCLIPTextEncoder',
        model_name=save_tiny_clip(str(tmp_path / 'clip')))
    head.promptor.cache_dir = str(tmp_path / 'text_cache')
    head.num_classes = 4
    head.loss_decode = cfg.model.segmentor.decode_head.loss_decode
    cfg.model.segmentor.decode_head = head
    cfg.train_cfg.val_interval = 100  # training only
    adapt_cfg_to_device(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()
    for key in ('loss_ce', ) + extra:
        for branch in ('sup', 'unsup'):
            name = f'train/{branch}.decode.{key}'
            values = runner.message_hub.get_scalar(name).data[0]
            assert len(values) == 2, name
            assert all(torch.isfinite(torch.tensor(v)) for v in values), name
    teacher = runner.model.teacher.decode_head
    assert type(teacher).__name__ == type(
        runner.model.student.decode_head).__name__
    assert torch.equal(
        teacher.promptor.class_embeddings,
        runner.model.student.decode_head.promptor.class_embeddings)
