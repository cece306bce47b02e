"""MMSeg's single-image API (``mmseg.apis.init_model`` / ``inference_model``
/ ``show_result_pyplot``) on a trained full-ViLaDiff checkpoint."""
import copy
import glob
import os.path as osp

import mmcv
import pytest
import torch
from helpers import VILADIFF_SYNTHETIC_CONFIG, tiny_semi_cfg
from mmengine.runner import Runner
from mmseg.apis import inference_model, init_model, show_result_pyplot

from mmseg_viladiff.utils import ConfigError, adapt_cfg_to_device


@pytest.fixture(scope='module')
def trained(synthetic_root, tmp_path_factory):
    """Config and checkpoint of 2 iterations of full ViLaDiff."""
    work = str(tmp_path_factory.mktemp('viladiff'))
    cfg = tiny_semi_cfg(
        synthetic_root, work, max_iters=2, config=VILADIFF_SYNTHETIC_CONFIG)
    adapt_cfg_to_device(cfg)
    runner = Runner.from_cfg(copy.deepcopy(cfg))
    runner.train()
    return cfg, osp.join(work, 'iter_2.pth'), runner.model


def test_init_model_loads_the_checkpoint(trained, synthetic_root):
    cfg, ckpt, trained_model = trained
    model = init_model(copy.deepcopy(cfg), ckpt, device='cpu')
    assert model.dataset_meta['classes'] == ('background', 'disc', 'square',
                                             'triangle')
    state = trained_model.state_dict()
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert not model.training


def test_inference_on_a_file_and_an_array(trained, synthetic_root, tmp_path):
    cfg, ckpt, _ = trained
    model = init_model(copy.deepcopy(cfg), ckpt, device='cpu')
    path = sorted(glob.glob(osp.join(synthetic_root, 'img_dir/val/*.png')))[0]
    image = mmcv.imread(path)
    from_file = inference_model(model, path)
    pred = from_file.pred_sem_seg.data
    assert pred.shape == (1, ) + image.shape[:2]
    assert int(pred.max()) < 4
    out = str(tmp_path / 'painted.png')
    show_result_pyplot(model, path, from_file, show=False, out_file=out)
    assert mmcv.imread(out).shape[0] == image.shape[0]
    # an in-memory image (after which MMSeg's pipeline only takes arrays):
    # the same prediction, in batches too
    from_array = inference_model(model, image)
    assert torch.equal(from_array.pred_sem_seg.data, pred)
    batch = inference_model(model, [image, image[:, ::-1].copy()])
    assert torch.equal(batch[0].pred_sem_seg.data, pred)
    assert batch[1].pred_sem_seg.data.shape == pred.shape


def test_caption_mode_names_the_uncaptioned_image(trained, synthetic_root,
                                                  tmp_path):
    """Inference with captions reads them for captioned images and names an
    image that has none (the default 'vision' mode needs none)."""
    cfg, ckpt, _ = trained
    cfg = copy.deepcopy(cfg)
    cfg.model.segmentor.neck.infer_mode = 'caption'
    model = init_model(cfg, ckpt, device='cpu')
    path = sorted(glob.glob(osp.join(synthetic_root, 'img_dir/val/*.png')))[0]
    result = inference_model(model, path)
    assert result.caption  # from the dataset's caption file
    elsewhere = str(tmp_path / 'new.png')
    mmcv.imwrite(mmcv.imread(path), elsewhere)
    with pytest.raises(ConfigError, match='new.png has no caption'):
        inference_model(model, elsewhere)
    with pytest.raises(
            ConfigError, match=r'sample 0 \(in memory\) has no caption'):
        inference_model(model, mmcv.imread(path))
