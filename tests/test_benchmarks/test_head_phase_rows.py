"""Rows whose new head gets a supervised phase first: the refiner's phase
on the frozen supervised model (`supervised-diffrefine`), the text-guided
heads trained as the supervised row, and the mean-teacher rows that start
from them."""
import pytest
import torch
from camvid import ROWS, build_run_config, running
from camvid.errors import BenchmarkError
from camvid.rows import BURN_IN_LR, REFINER_ITERS, SEMI_ITERS
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


def test_refiner_phase_trains_only_the_refiner(tmp_path):
    """Backbone, auxiliary head and the cascade's first head (the loaded
    supervised model) get learning rate 0; the refiner the heads' rate."""
    row = ROWS['supervised-diffrefine']
    cfg = build_run_config(row, 0, REFINER_ITERS, str(tmp_path), 100)
    adapt_cfg_to_device(cfg)
    register_all_modules()
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    lr_of = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            lr_of[id(p)] = group['lr']
    seen = {'frozen': 0, 'refiner': 0}
    for name, p in model.named_parameters():
        if name.startswith('decode_head.1.'):
            assert lr_of[id(p)] == pytest.approx(0.1), name
            seen['refiner'] += 1
        else:
            assert name.startswith(('backbone.', 'decode_head.0.',
                                    'auxiliary_head.')), name
            assert lr_of[id(p)] == 0, name
            seen['frozen'] += 1
    assert seen['frozen'] and seen['refiner']
    # SGD at lr 0 leaves a frozen weight exactly as loaded
    frozen = next(model.backbone.parameters())
    before = frozen.detach().clone()
    frozen.grad = torch.ones_like(frozen)
    wrapper.optimizer.step()
    assert torch.equal(frozen, before)


def test_a_row_whose_phase_has_not_run_names_the_command(tmp_path):
    with pytest.raises(BenchmarkError,
                       match='run supervised-semivl --seed 1` first'):
        running.row_model(str(tmp_path), 'supervised-semivl', 1,
                          'initial weights')
