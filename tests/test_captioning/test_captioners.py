"""Captioning backends: tiny transformers models loaded by path, and the
segmentation template."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from captioning_helpers import (calibrated_checkpoint,
                                synthetic_caption_config, tiny_blip,
                                tiny_llava)
from mmengine.config import Config
from PIL import Image

from mmseg_viladiff.captioning import (HFCaptioner, TemplateCaptioner,
                                       default_prompt, presence_caption)
from mmseg_viladiff.utils import ConfigError, DataError


@pytest.fixture(scope='module')
def models_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp('caption_models'))


@pytest.fixture(scope='module')
def images(synthetic_root):
    paths = sorted(glob.glob(osp.join(synthetic_root, 'img_dir/*/*.png')))
    return [Image.open(p).convert('RGB') for p in paths[:3]]


def test_default_prompt_names_the_classes():
    assert default_prompt([
        'background', 'disc', 'square'
    ]) == ('Describe this image in one sentence, naming which of these '
           'appear: disc, square.')
    assert default_prompt(None) == 'Describe this image in one sentence.'


def test_presence_caption():
    assert presence_caption([]) == 'a photo of a scene.'
    assert presence_caption(['road']) == 'a photo showing road.'
    assert presence_caption(['road', 'sky', 'building', 'car']) == \
        'a photo showing road, sky, building and car.'


def test_blip_loaded_by_path_captions_a_batch(models_dir, images):
    from transformers import BlipForConditionalGeneration
    path = tiny_blip(models_dir)
    captioner = HFCaptioner(path, prompt='a photo of', max_new_tokens=8)
    assert isinstance(captioner.model, BlipForConditionalGeneration)
    assert not captioner.chat and captioner.model_id == path
    captions = captioner.caption(images)
    assert len(captions) == 3
    assert all(isinstance(c, str) and c for c in captions)
    # batching changes nothing, and greedy decoding is reproducible
    assert [captioner.caption([img])[0] for img in images] == captions
    # what the model says for the first image, decoded by hand
    inputs = captioner.processor(
        images=images[:1], text=['a photo of'], return_tensors='pt')
    with torch.no_grad():
        ids = captioner.model.generate(**inputs, max_new_tokens=8)
    said = captioner.processor.batch_decode(ids, skip_special_tokens=True)[0]
    assert said.startswith('a photo of ')
    assert captions[0] == said[len('a photo of '):].strip()


def test_chat_model_gets_the_prompt_as_a_user_turn(models_dir, images):
    from transformers import LlavaForConditionalGeneration
    captioner = HFCaptioner(
        tiny_llava(models_dir),
        prompt='describe this image .',
        max_new_tokens=6)
    assert isinstance(captioner.model, LlavaForConditionalGeneration)
    assert captioner.chat
    captions = captioner.caption(images)
    assert len(captions) == 3
    for caption in captions:  # the chat prompt is not echoed
        assert 'USER' not in caption and 'ASSISTANT' not in caption
    assert [captioner.caption([img])[0] for img in images] == captions


def test_hf_captioner_errors(tmp_path):
    with pytest.raises(DataError, match='model folder not found'):
        HFCaptioner(str(tmp_path / 'missing'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(DataError, match='cannot load captioning model'):
        HFCaptioner(str(tmp_path / 'empty'))


@pytest.fixture(scope='module')
def synthetic_template(synthetic_root, models_dir):
    """(config path, checkpoint path) of a BN-calibrated random segmentor."""
    config = synthetic_caption_config(models_dir, synthetic_root)
    paths = sorted(glob.glob(osp.join(synthetic_root, 'img_dir/*/*.png')))
    ckpt = calibrated_checkpoint(config, paths,
                                 osp.join(models_dir, 'synthetic.pth'))
    return config, ckpt


def test_template_captioner_names_predicted_classes(synthetic_template,
                                                    synthetic_root):
    config, ckpt = synthetic_template
    captioner = TemplateCaptioner(config, ckpt)
    assert captioner.class_names == ('background', 'disc', 'square',
                                     'triangle')
    paths = sorted(glob.glob(osp.join(synthetic_root, 'img_dir/*/*.png')))
    imgs = [Image.open(p) for p in paths[:8]]
    captions = captioner.caption(imgs)
    assert len(captions) == 8 and len(set(captions)) > 1
    # batching changes nothing (resumed and sharded runs rely on it)
    assert [captioner.caption([img])[0] for img in imgs] == captions
    # the caption is the template over the model's own prediction
    data = captioner.pipeline(
        dict(img=np.asarray(imgs[0].convert('RGB'))[..., ::-1].copy()))
    with torch.no_grad():
        seg = captioner.model.test_step(
            dict(inputs=[data['inputs']],
                 data_samples=[data['data_samples']]))[0]
    seg = seg.pred_sem_seg.data[0].numpy()
    assert captions[0] == presence_caption(captioner.present_classes(seg))


def test_present_classes_by_area_threshold_and_background(synthetic_template):
    config, ckpt = synthetic_template
    captioner = TemplateCaptioner(config, ckpt, min_area=0.05)
    seg = np.zeros((10, 10), dtype=np.int64)  # background 55 %
    seg[:3] = 2  # square 30 %
    seg[3, :4] = 3  # triangle 4 %, below min_area
    seg[4, :] = 1  # disc 10 %
    seg[3, 4] = 1  # disc 11 %
    assert captioner.present_classes(seg) == ['square', 'disc']
    captioner.min_area = 0.0
    assert captioner.present_classes(seg) == ['square', 'disc', 'triangle']
    with pytest.raises(ConfigError, match='predicts class 4'):
        captioner.present_classes(np.full((2, 2), 4))


def test_template_on_semi_encoder_decoder_predicts_like_its_segmentor(
        synthetic_template, images):
    """A plain checkpoint loads into both SemiEncoderDecoder models, whose
    predict (the teacher) must then caption as the plain segmentor does."""
    config, ckpt = synthetic_template
    semi = Config.fromfile(config)
    semi.model = dict(type='SemiEncoderDecoder', segmentor=semi.model)
    names = ['background', 'disc', 'square', 'triangle']
    captioner = TemplateCaptioner(semi, ckpt, class_names=names)
    assert type(captioner.model).__name__ == 'SemiEncoderDecoder'
    plain = TemplateCaptioner(config, ckpt)
    assert captioner.caption(images) == plain.caption(images)


def test_template_captioner_errors(synthetic_template, tmp_path):
    config, ckpt = synthetic_template
    with pytest.raises(DataError, match='checkpoint not found'):
        TemplateCaptioner(config, str(tmp_path / 'none.pth'))
    with pytest.raises(DataError, match='config not found'):
        TemplateCaptioner(str(tmp_path / 'none.py'), ckpt)
    with pytest.raises(ConfigError, match=r'min_area must be in \[0, 1\)'):
        TemplateCaptioner(config, ckpt, min_area=1.0)
