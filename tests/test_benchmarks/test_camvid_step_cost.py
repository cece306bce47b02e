"""The CamVid step-cost benchmark: which logged iterations it reads, the
ratios of its table, its arguments, and one short real run (slow)."""
import json
import os.path as osp

import camvid_step_cost as sc
import pytest
from conftest import CAMVID_ROOT


def test_step_times_skip_warmup_and_validation_records():
    records = [
        dict(step=1, loss=1.0, time=9.0, data_time=0.5),
        dict(step=2, loss=1.0, time=2.0, data_time=0.1),
        dict(step=3, loss=1.0, time=4.0, data_time=0.3),
        dict(step=3, time=30.0, data_time=0.2),  # validation: no loss
    ]
    assert sc.step_times(records, skip=1) == [2.0, 4.0]
    assert sc.data_times(records, skip=1) == [0.1, 0.3]
    assert sc.step_times(records, skip=3) == []


def test_table_gives_ratios_to_supervised_and_mean_teacher():
    meta = dict(
        iters=10,
        skip=2,
        machine=dict(cpu='cpu', cores=2),
        threads='1',
        cpus_allowed=1,
        torch='2.x',
        commit='abc',
        date='2026-12-03')
    rows = [
        dict(row='supervised', label='s', s_per_it=2.0, data_s_per_it=0.01),
        dict(row='meanteacher', label='m', s_per_it=5.0, data_s_per_it=None),
        dict(row='unimatch', label='u', s_per_it=7.5, data_s_per_it=0.02),
    ]
    text = sc.markdown(rows, meta)
    assert '| `unimatch` | u | 7.50 | 0.020 | 3.75 | 1.50 |' in text
    assert '| `meanteacher` | m | 5.00 | - | 2.50 | 1.00 |' in text
    assert 'iterations 3-10' in text
    # without a supervised row the ratio column says so
    assert '| `unimatch` | u | 7.50 | 0.020 | - | 1.50 |' in sc.markdown(
        rows[1:], meta)


def test_bad_arguments_are_refused():
    with pytest.raises(SystemExit):
        sc.parse_args(['--iters', '5', '--skip', '5'])
    with pytest.raises(SystemExit):
        sc.parse_args(['--rows', 'no-such-row'])


@pytest.mark.slow
@pytest.mark.skipif(not osp.isdir(CAMVID_ROOT), reason='CamVid not here')
def test_two_rows_train_and_are_timed(tmp_path):
    out = tmp_path / 'cost.md'
    assert sc.main([
        '--rows', 'supervised', 'meanteacher', '--iters', '3', '--skip', '1',
        '--out', str(out)
    ]) == 0
    with open(tmp_path / 'cost.json') as f:
        result = json.load(f)
    assert [r['row'] for r in result['rows']] == ['supervised', 'meanteacher']
    for r in result['rows']:
        assert r['iters'] == 2 and r['s_per_it'] > 0
    assert '| `meanteacher` |' in out.read_text()
