"""benchmarks/text_prior_sweep.py: the swept predictions are what the
segmentor itself predicts with a text prior of that scale."""
import pytest
import torch
import text_prior_sweep
from helpers import plain_vl_segmentor, viladiff_model_cfg
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch import nn

from mmseg_viladiff.utils import ConfigError


@pytest.fixture(scope='module')
def model_cfg(tmp_path_factory):
    return viladiff_model_cfg(str(tmp_path_factory.mktemp('text_cache')))


def one_image(size=64):
    s = SegDataSample(
        metainfo=dict(
            img_shape=(size, size),
            ori_shape=(size, size),
            pad_shape=(size, size),
            caption='a disc and a square'))
    s.gt_sem_seg = PixelData(data=torch.randint(0, 4, (1, size, size)))
    return dict(inputs=torch.rand(1, 3, size, size), data_samples=[s])


def test_sweep_matches_the_segmentors_own_prediction(model_cfg):
    model = plain_vl_segmentor(
        model_cfg, ground_weight=1.0, infer_mode='vision').eval()
    data = one_image()
    with torch.no_grad():
        plain, strong = text_prior_sweep.predictions_at_scales(
            model, data, [0, 50])
    # the neck is left as it was
    neck = model.neck
    assert (neck.ground_prior, neck.prior_scale, neck.infer_mode) == \
        (False, None, 'vision')

    def predict(scale):
        neck.infer_mode = 'caption'
        neck.ground_prior = True
        neck.prior_scale = nn.Parameter(torch.full((neck.num_classes, ),
                                                   float(scale)))
        with torch.no_grad():
            out = model.predict(data['inputs'], data['data_samples'])
        return out[0].pred_sem_seg.data[0].numpy()

    assert (plain == predict(0)).all()
    assert (strong == predict(50)).all()
    assert (plain != strong).any()  # the prior does change predictions


def test_a_neck_without_grounding_is_an_error(model_cfg):
    model = plain_vl_segmentor(model_cfg).eval()
    with pytest.raises(ConfigError, match='ground_weight'):
        text_prior_sweep.predictions_at_scales(model, one_image(), [0])
