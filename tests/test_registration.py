from mmseg.registry import DATASETS, HOOKS, MODELS

import mmseg_viladiff


def test_components_registered_in_mmseg_registries():
    assert MODELS.get('EfficientNetLite0') is not None
    for name in ('CamVidDataset', 'PartitionDataset',
                 'SyntheticShapesDataset'):
        assert DATASETS.get(name) is not None, name
    for name in ('SafeCheckpointHook', 'PredictionVisualizationHook'):
        assert HOOKS.get(name) is not None, name


def test_version_guard_names_the_package(monkeypatch):
    import pytest
    monkeypatch.setattr(mmseg_viladiff, '_REQUIRED',
                        (('mmcv', '2.2.0', '2.0.0rc4', '2.2.0'), ))
    with pytest.raises(ImportError, match=r'mmcv < 2\.2\.0.*mmcv 2\.2\.0'):
        mmseg_viladiff._check_versions()
