"""Tiny captioning models and segmentation checkpoints for the tests.

Everything is built from configs and saved under a temp folder; nothing is
downloaded. Each builder caches its result per folder, so test modules that
share a session folder build it once.
"""
import copy
import os
import os.path as osp
from typing import Dict, List

import numpy as np
import torch
from helpers import SYNTHETIC_CONFIG
from mmengine.config import Config
from PIL import Image

_BUILT: Dict[str, str] = {}

BLIP_WORDS = [
    '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '[DEC]', 'a', 'photo', 'of',
    'disc', 'square', 'triangle', 'and', 'describe', 'this', 'image', 'in',
    'one', 'sentence', ',', '.', ':', 'naming', 'which', 'these', 'appear'
]


def tiny_blip(folder: str) -> str:
    """A randomly initialised 1-layer BLIP captioner with its processor
    (BlipImageProcessor, 32x32 + a BERT tokenizer on a 26-word vocab),
    written by ``save_pretrained`` to ``folder/blip``."""
    out = osp.join(folder, 'blip')
    if out in _BUILT:
        return out
    from transformers import (BertTokenizer, BlipConfig,
                              BlipForConditionalGeneration, BlipImageProcessor,
                              BlipProcessor)
    os.makedirs(out, exist_ok=True)
    vocab = osp.join(folder, 'blip_vocab.txt')
    with open(vocab, 'w') as f:
        f.write('\n'.join(BLIP_WORDS) + '\n')
    tokenizer = BertTokenizer(vocab, bos_token='[DEC]')
    processor = BlipProcessor(
        image_processor=BlipImageProcessor(size=dict(height=32, width=32)),
        tokenizer=tokenizer)
    ids = {w: i for i, w in enumerate(BLIP_WORDS)}
    config = BlipConfig(
        text_config=dict(
            vocab_size=len(BLIP_WORDS),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            max_position_embeddings=64,
            encoder_hidden_size=32,
            bos_token_id=ids['[DEC]'],
            sep_token_id=ids['[SEP]'],
            eos_token_id=ids['[SEP]'],
            pad_token_id=ids['[PAD]']),
        vision_config=dict(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=32,
            patch_size=8),
        projection_dim=32)
    torch.manual_seed(0)
    BlipForConditionalGeneration(config).save_pretrained(out)
    processor.save_pretrained(out)
    _BUILT[out] = out
    return out


LLAVA_WORDS = [
    '<pad>', '<unk>', '<s>', '</s>', '<image>', 'USER', ':', 'ASSISTANT', 'a',
    'photo', 'of', 'disc', 'square', 'triangle', 'describe', 'this', 'image',
    '.', ','
]

#: "USER : <image> PROMPT ASSISTANT :"
LLAVA_CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'].upper() }} : "
    "{% for c in m['content'] %}{% if c['type'] == 'image' %}<image> "
    "{% else %}{{ c['text'] }} {% endif %}{% endfor %}{% endfor %}"
    "{% if add_generation_prompt %}ASSISTANT : {% endif %}")


def tiny_llava(folder: str) -> str:
    """A randomly initialised 1-layer LLaVA (CLIP vision + Llama text) with
    a word-level tokenizer and a chat template, in ``folder/llava``."""
    out = osp.join(folder, 'llava')
    if out in _BUILT:
        return out
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (CLIPImageProcessor, CLIPVisionConfig,
                              LlamaConfig, LlavaConfig,
                              LlavaForConditionalGeneration, LlavaProcessor,
                              PreTrainedTokenizerFast)
    vocab = {w: i for i, w in enumerate(LLAVA_WORDS)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token='<unk>'))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token='<unk>',
        pad_token='<pad>',
        bos_token='<s>',
        eos_token='</s>',
        additional_special_tokens=['<image>'])
    processor = LlavaProcessor(
        image_processor=CLIPImageProcessor(
            size=dict(shortest_edge=32), crop_size=dict(height=32, width=32)),
        tokenizer=tokenizer,
        patch_size=8,
        vision_feature_select_strategy='default',
        num_additional_image_tokens=1,
        chat_template=LLAVA_CHAT_TEMPLATE,
        image_token='<image>')
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=32,
            patch_size=8,
            projection_dim=32),
        text_config=LlamaConfig(
            vocab_size=len(LLAVA_WORDS),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=2,
            max_position_embeddings=128,
            pad_token_id=vocab['<pad>'],
            bos_token_id=vocab['<s>'],
            eos_token_id=vocab['</s>']),
        image_token_index=vocab['<image>'],
        vision_feature_select_strategy='default',
        vision_feature_layer=-1)
    torch.manual_seed(0)
    LlavaForConditionalGeneration(config).save_pretrained(out)
    processor.save_pretrained(out)
    _BUILT[out] = out
    return out


def synthetic_caption_config(folder: str, data_root: str) -> str:
    """The synthetic baseline config on ``data_root`` with every image in a
    dataloader: labeled + unlabeled partitions (train) and val/test, no
    pretrained weights; dumped to ``folder/synthetic_captions.py``."""
    out = osp.join(folder, 'synthetic_captions.py')
    if out in _BUILT:
        return out
    cfg = Config.fromfile(SYNTHETIC_CONFIG)
    train = copy.deepcopy(cfg.train_dataloader.dataset.dataset)
    train.data_root = data_root
    cfg.train_dataloader.dataset = dict(
        type='ConcatDataset',
        datasets=[
            dict(
                type='PartitionDataset',
                dataset=train,
                split_file='splits/labeled.txt'),
            dict(
                type='PartitionDataset',
                dataset=train,
                split_file='splits/unlabeled.txt',
                with_label=False)
        ])
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = data_root
    cfg.model.backbone.init_cfg = None
    cfg.dump(out)
    _BUILT[out] = out
    return out


def _load_bgr(path: str) -> torch.Tensor:
    rgb = np.asarray(Image.open(path).convert('RGB'))
    return torch.from_numpy(rgb[..., ::-1].copy()).permute(2, 0, 1)


def calibrated_checkpoint(config, images: List[str], out: str) -> str:
    """Save a randomly initialised segmentor whose BatchNorm statistics are
    estimated on ``images``, so that its (meaningless but deterministic)
    predictions differ from image to image; returns the checkpoint path.

    Args:
        config (str | Config): segmentation config (a plain segmentor).
        images (list[str]): image files of one size for the statistics.
        out (str): checkpoint file (``state_dict`` + ``meta``).
    """
    if out in _BUILT:
        return out
    from mmseg.registry import MODELS
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    cfg = copy.deepcopy(cfg)
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None  # cumulative average over the batch
    model.train()
    data = dict(inputs=[_load_bgr(p) for p in images])
    with torch.no_grad():
        inputs = model.data_preprocessor(data, False)['inputs']
        model._forward(inputs)
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, out)
    _BUILT[out] = out
    return out
