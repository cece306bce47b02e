import os.path as osp

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CAMVID_ROOT = osp.normpath(
    osp.join(REPO_ROOT, '..', 'shared', 'data', 'camvid'))


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory):
    """A tiny synthetic dataset: 16 train (4 labeled), 4 val, 64x64."""
    from mmseg_viladiff.datasets import generate_synthetic_dataset
    root = str(tmp_path_factory.mktemp('synthetic'))
    generate_synthetic_dataset(root, num_train=16, num_val=4, size=64)
    return root


@pytest.fixture
def camvid_root():
    if not osp.isdir(CAMVID_ROOT):
        pytest.skip(f'CamVid not found at {CAMVID_ROOT}')
    return CAMVID_ROOT


@pytest.fixture(autouse=True, scope='session')
def mmseg_default_scope():
    """Resolve registry names in MMSeg's scope, as the Runner does."""
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
