"""``tools/train.py --resume``: which checkpoint a run continues from."""
import os.path as osp

from mmengine.config import Config

from tools_loader import load_tool

train = load_tool('train')


def _cfg(work_dir, load_from=None):
    return Config(dict(work_dir=str(work_dir), load_from=load_from))


def _checkpoint(work_dir, name):
    path = osp.join(str(work_dir), name)
    open(path, 'wb').close()
    with open(osp.join(str(work_dir), 'last_checkpoint'), 'w') as f:
        f.write(path)
    return path


def test_auto_resume_continues_the_work_dir_not_the_initial_weights(
        tmp_path):
    """A burn-in config sets load_from to another run's model; mmengine
    would resume from that (its iteration, its optimizer) if it stayed."""
    latest = _checkpoint(tmp_path, 'iter_200.pth')
    cfg = _cfg(tmp_path, load_from='/elsewhere/supervised/best.pth')
    train.apply_resume(cfg, 'auto')
    assert cfg.resume is True
    assert cfg.load_from == latest


def test_auto_resume_without_a_checkpoint_starts_as_configured(tmp_path):
    cfg = _cfg(tmp_path, load_from='/elsewhere/supervised/best.pth')
    train.apply_resume(cfg, 'auto')
    assert cfg.resume is False
    assert cfg.load_from == '/elsewhere/supervised/best.pth'


def test_resume_from_a_named_checkpoint(tmp_path):
    _checkpoint(tmp_path, 'iter_200.pth')
    cfg = _cfg(tmp_path, load_from='/elsewhere/supervised/best.pth')
    train.apply_resume(cfg, '/runs/a/iter_100.pth')
    assert cfg.resume is True
    assert cfg.load_from == '/runs/a/iter_100.pth'
