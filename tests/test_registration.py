import pytest
from mmseg.registry import (DATA_SAMPLERS, DATASETS, HOOKS, LOOPS, MODELS,
                            TASK_UTILS, TRANSFORMS)

import mmseg_viladiff

COMPONENTS = {
    MODELS:
    ('EfficientNetLite0', 'SemiEncoderDecoder', 'SemiSegDataPreProcessor',
     'EdgeAwareMixDiffusionHead', 'CaptionPromptor', 'VLFusionNeck',
     'VLEncoderDecoder', 'VLCascadeEncoderDecoder', 'HFTextEncoder',
     'OpenCLIPTextEncoder', 'ClassBalancedCrossEntropyLoss',
     'DynamicClassBalancedCELoss', 'RelationDistillLoss', 'StyleDistillLoss',
     'VLGuidedHead', 'SemanticQueryHead'),
    DATASETS: ('CamVidDataset', 'PartitionDataset', 'SyntheticShapesDataset'),
    TRANSFORMS:
    ('MultiViewPack', 'StrongPhotometricAug', 'LoadCaption', 'CheckSegLabels'),
    TASK_UTILS: ('EdgeBandPixelWeights', ),
    DATA_SAMPLERS: ('LabeledUnlabeledSampler', ),
    HOOKS: ('SafeCheckpointHook', 'RandomStateHook', 'SemiMeanTeacherHook',
            'PredictionVisualizationHook'),
    LOOPS: ('TeacherStudentValLoop', ),
}


@pytest.mark.parametrize(
    'registry, name',
    [(r, n) for r, names in COMPONENTS.items() for n in names],
    ids=lambda x: x if isinstance(x, str) else x.name)
def test_component_registered_in_mmseg_registry(registry, name):
    cls = registry.get(name)
    assert cls is not None and cls.__module__.startswith('mmseg_viladiff.')


def test_version_guard_names_the_package(monkeypatch):
    monkeypatch.setattr(mmseg_viladiff, '_REQUIRED',
                        (('mmcv', '2.2.0', '2.0.0rc4', '2.2.0'), ))
    with pytest.raises(ImportError, match=r'mmcv < 2\.2\.0.*mmcv 2\.2\.0'):
        mmseg_viladiff._check_versions()
