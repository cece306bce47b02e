"""The cid and dyce rows: the mean teacher's burn-in protocol on their own
configs, and the config a run of them trains."""
import pytest
from camvid import ROWS
from camvid.rows import BURN_IN_LR, MEANTEACHER, SEMI_ITERS, build_run_config


@pytest.mark.parametrize('row', ['cid', 'dyce'])
def test_peer_rows_follow_the_burn_in_protocol(row, tmp_path):
    spec, base = ROWS[row], ROWS['meanteacher']
    assert spec.config == f'configs/viladiff/{row}_effnetl0_camvid_1-8.py'
    assert base.config == MEANTEACHER
    # everything but the config and the label is the mean teacher's
    assert spec._replace(config=MEANTEACHER, label=base.label) == base
    assert spec.options == BURN_IN_LR and spec.iters == SEMI_ITERS
    assert spec.init_from == 'supervised' and spec.semi
    cfg = build_run_config(spec, seed=1, iters=8, work_dir=str(tmp_path),
                           val_interval=4)
    assert cfg.optim_wrapper.optimizer.lr == 0.001
    assert cfg.randomness.seed == 1 and cfg.train_cfg.max_iters == 8
    semi = cfg.model.semi_train_cfg
    if row == 'cid':
        assert len(semi.feature_distill) == 2
    else:
        assert semi.unsup_class_weight is True
        assert cfg.model.segmentor.decode_head.loss_decode.type == \
            'DynamicClassBalancedCELoss'
