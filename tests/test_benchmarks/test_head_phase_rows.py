"""Rows whose new head gets a supervised phase first: the refiner's phase
on the frozen supervised model (`supervised-diffrefine`), the text-guided
heads trained as the supervised row, and the mean-teacher rows that start
from them."""
import pytest
import torch
from camvid import ROWS, build_run_config, running
from camvid.errors import BenchmarkError
from camvid.rows import BURN_IN_LR, NECK_ITERS, REFINER_ITERS, SEMI_ITERS
from mmengine.optim import build_optim_wrapper
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules

from mmseg_viladiff.utils import adapt_cfg_to_device


@pytest.mark.parametrize('row, init', [
    ('meanteacher-diffrefine', 'supervised-diffrefine'),
    ('viladiff', 'supervised-diffrefine'),
    ('semivl', 'supervised-semivl'),
    ('hiervl', 'supervised-hiervl'),
])
def test_semi_rows_start_from_their_heads_supervised_phase(row, init):
    spec, phase = ROWS[row], ROWS[init]
    assert spec.semi and not phase.semi
    assert spec.init_from == init and spec.iters == SEMI_ITERS
    assert BURN_IN_LR.items() <= spec.options.items()
    # the refiner's phase starts from the supervised row; a text-guided
    # head is trained as the supervised row is, from ImageNet
    assert phase.init_from == ('supervised'
                               if init == 'supervised-diffrefine' else None)


@pytest.mark.parametrize('row, iters, trained, frozen', [
    ('supervised-diffrefine', REFINER_ITERS, 'decode_head.1.',
     ('backbone.', 'decode_head.0.', 'auxiliary_head.')),
    ('supervised-vl-oracle', NECK_ITERS, 'neck.',
     ('backbone.', 'decode_head.', 'auxiliary_head.')),
])
def test_a_phase_trains_only_its_new_part(row, iters, trained, frozen,
                                          tmp_path):
    """What the phase loads (backbone, auxiliary head, the supervised
    decode head) gets learning rate 0; the new part (the refiner, the VL
    neck) the heads' rate."""
    cfg = build_run_config(ROWS[row], 0, iters, str(tmp_path), 100,
                           str(tmp_path / 'captions.jsonl'))
    adapt_cfg_to_device(cfg)
    register_all_modules()
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    lr_of = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            lr_of[id(p)] = group['lr']
    seen = {'frozen': 0, 'trained': 0}
    for name, p in model.named_parameters():
        if not p.requires_grad:  # the frozen text encoder: not optimised
            continue
        if name.startswith(trained):
            assert lr_of[id(p)] == pytest.approx(0.1), name
            seen['trained'] += 1
        else:
            assert name.startswith(frozen), name
            assert lr_of[id(p)] == 0, name
            seen['frozen'] += 1
    assert seen['frozen'] and seen['trained']
    # SGD at lr 0 leaves a frozen weight exactly as loaded
    weight = next(model.backbone.parameters())
    before = weight.detach().clone()
    weight.grad = torch.ones_like(weight)
    wrapper.optimizer.step()
    assert torch.equal(weight, before)


def test_neck_phase_is_selected_by_caption_inference(tmp_path):
    cfg = build_run_config(ROWS['supervised-vl-oracle'], 0, NECK_ITERS,
                           str(tmp_path), 100, str(tmp_path / 'c.jsonl'))
    assert cfg.model.neck.infer_mode == 'caption'
    assert ROWS['supervised-vl-oracle'].captioner == 'oracle'
    assert ROWS['meanteacher-vl-oracle-neck'].init_from == \
        'supervised-vl-oracle'


def test_a_row_whose_phase_has_not_run_names_the_command(tmp_path):
    with pytest.raises(BenchmarkError,
                       match='run supervised-semivl --seed 1` first'):
        running.row_model(str(tmp_path), 'supervised-semivl', 1,
                          'initial weights')
