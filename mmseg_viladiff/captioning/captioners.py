"""Captioning backends: a vision-language model, or a segmentation template.

Both take a batch of PIL images and return one caption each, and carry
the ``name``, ``model_id`` and ``prompt`` written into every caption
record:

* :class:`HFCaptioner` (``'hf'``): any image-to-text model of
  ``transformers`` (BLIP, BLIP-2, InstructBLIP, LLaVA, Florence-2, ...),
  prompted with the dataset's class names.
* :class:`TemplateCaptioner` (``'template'``): for machines without a VLM;
  a segmentation checkpoint predicts which classes an image shows and a
  template sentence names them by decreasing area.
"""
import copy
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from PIL import Image

from ..utils.errors import ConfigError, DataError

#: class names left out of prompts and template captions
BACKGROUND_NAMES = ('background', )

PROMPT_PREFIX = 'Describe this image in one sentence'


def default_prompt(class_names: Optional[Sequence[str]] = None) -> str:
    """The default instruction: describe the image, naming the classes.

    Args:
        class_names (Sequence[str], optional): the dataset's classes; a name
            in :data:`BACKGROUND_NAMES` is left out.

    Returns:
        str: e.g. ``'Describe this image in one sentence, naming which of
        these appear: sky, road, car.'``, or ``'Describe this image in one
        sentence.'`` without classes.
    """
    names = [
        n for n in (class_names or ()) if n.lower() not in BACKGROUND_NAMES
    ]
    if not names:
        return PROMPT_PREFIX + '.'
    return f'{PROMPT_PREFIX}, naming which of these appear: ' + \
        ', '.join(names) + '.'


def _strip_prefix(text: str, prefix: str) -> str:
    """``text`` without a leading ``prefix``, ignoring case and spaces
    (tokenizers lower-case and re-space text); unchanged if absent."""
    wanted = [c.lower() for c in prefix if not c.isspace()]
    if not wanted:
        return text.strip()
    i = 0
    for pos, char in enumerate(text):
        if char.isspace():
            continue
        if char.lower() != wanted[i]:
            return text.strip()
        i += 1
        if i == len(wanted):
            return text[pos + 1:].strip()
    return text.strip()


def _auto_model_class():
    """The auto class for image-to-text generation in this transformers."""
    import transformers
    for name in ('AutoModelForImageTextToText', 'AutoModelForVision2Seq'):
        if hasattr(transformers, name):
            return getattr(transformers, name)
    raise ImportError('this transformers has neither AutoModelForImageText'
                      'ToText nor AutoModelForVision2Seq; install the '
                      'version in requirements/optional.txt')


def _torch_dtype(dtype: Union[str, torch.dtype, None]):
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    value = getattr(torch, str(dtype), None)
    if not isinstance(value, torch.dtype):
        raise ConfigError(f'dtype must name a torch dtype (float32, float16,'
                          f' bfloat16), got {dtype!r}')
    return value


class HFCaptioner:
    """Prompt-guided captions from a ``transformers`` image-to-text model.

    The processor comes from ``AutoProcessor`` and the model from
    ``AutoModelForImageTextToText``, so every model family it maps works
    (BLIP, BLIP-2, InstructBLIP, LLaVA, Florence-2, GIT, ...). A processor
    with a chat template (instruction-following models such as LLaVA) gets
    the prompt as a user turn with the image; otherwise the prompt is the
    text the caption continues (BLIP's ``'a photo of'``) and is stripped
    from the output. Generation is greedy, so captions are reproducible.

    Args:
        model (str): a local folder written by ``save_pretrained`` (loaded
            with ``local_files_only``) or a model id from the Hugging Face
            cache/hub.
        prompt (str, optional): the prompt; None captions without one (a
            chat model then gets :func:`default_prompt`).
        device (str | torch.device): where the model runs. Defaults to
            ``'cpu'``.
        max_new_tokens (int): caption length limit in tokens. Defaults to 40.
        dtype (str | torch.dtype, optional): model dtype, e.g.
            ``'float16'`` on GPUs. None keeps the checkpoint's default.
        num_beams (int): beam search width. Defaults to 1 (greedy).
        trust_remote_code (bool): allow model code shipped with the weights
            (needed only by models transformers does not implement).

    Example:
        >>> captioner = HFCaptioner('Salesforce/blip-image-captioning-base',
        ...                         prompt='a photo of')
        >>> captioner.caption([Image.open('street.png')])
        ['a street with cars parked on the side']
    """
    name = 'hf'

    def __init__(self,
                 model: str,
                 prompt: Optional[str] = None,
                 device: Union[str, torch.device] = 'cpu',
                 max_new_tokens: int = 40,
                 dtype: Union[str, torch.dtype, None] = None,
                 num_beams: int = 1,
                 trust_remote_code: bool = False) -> None:
        try:
            from transformers import AutoProcessor
        except ImportError as e:
            raise ImportError('HFCaptioner needs transformers: pip install -r '
                              'requirements/optional.txt') from e
        if max_new_tokens < 1 or num_beams < 1:
            raise ConfigError('max_new_tokens and num_beams must be >= 1, '
                              f'got {max_new_tokens} and {num_beams}')
        self.model_id = str(model)
        self.prompt = prompt
        self.device = torch.device(device)
        self.max_new_tokens = max_new_tokens
        self.num_beams = num_beams
        source = osp.expanduser(self.model_id)
        local = osp.isdir(source)
        if not local and self.model_id.startswith(('.', '/', '~')):
            raise DataError(f'captioning model folder not found: '
                            f'{self.model_id}')
        kwargs = dict(
            local_files_only=local, trust_remote_code=trust_remote_code)
        try:
            self.processor = AutoProcessor.from_pretrained(source, **kwargs)
            net = _auto_model_class().from_pretrained(
                source, dtype=_torch_dtype(dtype), **kwargs)
        except (OSError, ValueError) as e:
            where = 'the folder' if local else 'the Hugging Face cache/hub'
            raise DataError(
                f'cannot load captioning model {self.model_id!r} from '
                f'{where}: {e}\nGive a folder written by save_pretrained '
                '(model and processor) or a model id already in the Hugging '
                'Face cache.') from None
        self.model = net.to(self.device).eval()
        self.chat = bool(getattr(self.processor, 'chat_template', None))
        self.tokenizer = getattr(self.processor, 'tokenizer', self.processor)
        if self.chat and hasattr(self.tokenizer, 'padding_side'):
            self.tokenizer.padding_side = 'left'  # decoder-only generation

    def _inputs(self, images: List[Image.Image]):
        n = len(images)
        if self.chat:
            messages = [
                dict(
                    role='user',
                    content=[
                        dict(type='image'),
                        dict(
                            type='text', text=self.prompt or default_prompt())
                    ])
            ]
            text = self.processor.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=False)
            return self.processor(
                images=images,
                text=[text] * n,
                padding=True,
                return_tensors='pt')
        if self.prompt:
            return self.processor(
                images=images,
                text=[self.prompt] * n,
                padding=True,
                return_tensors='pt')
        return self.processor(images=images, return_tensors='pt')

    def _decode(self, out: torch.Tensor, inputs) -> List[str]:
        input_ids = inputs.get('input_ids')
        if input_ids is not None and out.shape[1] >= input_ids.shape[1] \
                and torch.equal(out[:, :input_ids.shape[1]], input_ids):
            out = out[:, input_ids.shape[1]:]  # decoder-only: drop the input
        texts = self.tokenizer.batch_decode(out, skip_special_tokens=True)
        if self.prompt and not self.chat and input_ids is not None:
            # BLIP-style models repeat the prompt before the caption
            said = self.tokenizer.decode(
                input_ids[0], skip_special_tokens=True)
            texts = [_strip_prefix(t, said) for t in texts]
        return [t.strip() for t in texts]

    def caption(self, images: List[Image.Image]) -> List[str]:
        """Caption a batch of images.

        Args:
            images (list[PIL.Image.Image]): images of any size and mode.

        Returns:
            list[str]: one caption per image, prompt removed.
        """
        if not images:
            return []
        images = [img.convert('RGB') for img in images]
        inputs = self._inputs(images).to(self.device, dtype=self.model.dtype)
        with torch.inference_mode():
            out = self.model.generate(
                **inputs,
                max_new_tokens=self.max_new_tokens,
                num_beams=self.num_beams,
                do_sample=False)
        return self._decode(out, inputs)


def _build_segmentor(config, device: str) -> torch.nn.Module:
    """Build ``config.model`` for inference (weights not initialised)."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope(config.get('default_scope', 'mmseg'))
    model = MODELS.build(config.model)
    return model.to(device).eval()


#: test-pipeline steps that read files other than the image
_FILE_STEPS = ('LoadAnnotations', 'LoadCaption')
_IMAGE_LOADERS = ('LoadImageFromFile', 'LoadImageFromNDArray')


def _array_pipeline(pipeline: Sequence[dict]) -> list:
    """A test pipeline fed with decoded images: the image loader first, as
    ``LoadImageFromNDArray``; annotation and caption loading dropped."""
    steps = [
        dict(t) for t in pipeline
        if str(t['type']).split('.')[-1] not in _FILE_STEPS
    ]
    loaders = [
        i for i, t in enumerate(steps)
        if str(t['type']).split('.')[-1] in _IMAGE_LOADERS
    ]
    if not loaders:
        raise ConfigError('the segmentation config\'s test_pipeline has no '
                          'LoadImageFromFile step')
    loader = steps.pop(loaders[0])
    return [dict(loader, type='LoadImageFromNDArray')] + steps


def presence_caption(names: Sequence[str]) -> str:
    """The template sentence for the classes an image shows.

    Args:
        names (Sequence[str]): class names, most important first.

    Returns:
        str: ``'a photo showing road, sky, building and car.'``, or
        ``'a photo of a scene.'`` when ``names`` is empty.
    """
    names = list(names)
    if not names:
        return 'a photo of a scene.'
    if len(names) == 1:
        listed = names[0]
    else:
        listed = ', '.join(names[:-1]) + ' and ' + names[-1]
    return f'a photo showing {listed}.'


class TemplateCaptioner:
    """Captions from the classes a segmentation model finds in each image.

    The segmentor is built from an MMSeg config (any segmentor,
    ``SemiEncoderDecoder`` included, whose ``predict`` uses the teacher by
    default; ``mmseg.apis.init_model`` cannot build the latter, as it adds
    ``pretrained`` and ``train_cfg`` keys), its weights are loaded with
    mmengine's ``load_checkpoint`` under torch's safe ``weights_only``
    loading, and it predicts with the config's ``test_pipeline`` (fed with
    decoded images; annotation and caption loading dropped). Classes
    covering at least ``min_area`` of an image are listed by decreasing area
    in :func:`presence_caption`.

    Args:
        config (str | Config): segmentation config.
        checkpoint (str): checkpoint file with a ``state_dict``.
        class_names (Sequence[str], optional): names of the model's classes;
            defaults to the checkpoint's ``meta.dataset_meta.classes``, then
            to the test dataset's ``METAINFO``.
        min_area (float): smallest share of the image, in [0, 1), for a
            class to be named. Defaults to 0.01.
        device (str): where the segmentor runs. Defaults to ``'cpu'``.
        ignore_classes (Sequence[str]): class names never named.
            Defaults to :data:`BACKGROUND_NAMES`.
    """
    name = 'template'

    def __init__(self,
                 config,
                 checkpoint: str,
                 class_names: Optional[Sequence[str]] = None,
                 min_area: float = 0.01,
                 device: str = 'cpu',
                 ignore_classes: Sequence[str] = BACKGROUND_NAMES) -> None:
        from mmengine.config import Config
        from mmengine.runner import load_checkpoint
        if not 0 <= min_area < 1:
            raise ConfigError(f'min_area must be in [0, 1), got {min_area}')
        if isinstance(config, str):
            if not osp.isfile(config):
                raise DataError(f'segmentation config not found: {config}')
            config = Config.fromfile(config)  # runs custom_imports
        else:
            config = copy.deepcopy(config)
        if not osp.isfile(checkpoint):
            raise DataError(f'segmentation checkpoint not found: '
                            f'{checkpoint}')
        from mmengine.dataset import Compose
        pipeline = config.get('test_pipeline') or \
            config.test_dataloader.dataset.pipeline
        self.model_id = str(checkpoint)
        self.prompt = None
        self.min_area = min_area
        self.ignore_classes = {n.lower() for n in ignore_classes}
        self.model = _build_segmentor(config, device)
        self.pipeline = Compose(_array_pipeline(pipeline))
        ckpt = load_checkpoint(self.model, checkpoint, map_location='cpu')
        meta = (ckpt.get('meta') or {}).get('dataset_meta') or {}
        names = class_names or meta.get('classes') or \
            self._config_classes(config)
        if not names:
            raise ConfigError('no class names: pass class_names, or use a '
                              'checkpoint with meta.dataset_meta.classes')
        self.class_names = tuple(names)

    @staticmethod
    def _config_classes(config) -> Optional[tuple]:
        from mmseg.registry import DATASETS
        loader = config.get('test_dataloader') or {}
        dataset = loader.get('dataset') or {}
        cls = DATASETS.get(dataset.get('type', '')) if dataset else None
        metainfo = dataset.get('metainfo') or getattr(cls, 'METAINFO', {})
        return tuple(metainfo.get('classes', ())) or None

    def present_classes(self, seg: np.ndarray) -> List[str]:
        """Names of the classes covering >= ``min_area``, largest first.

        Args:
            seg (np.ndarray): (H, W) integer class map.

        Returns:
            list[str]: class names by decreasing area (ties by class id).
        """
        counts = np.bincount(seg.reshape(-1).astype(np.int64))
        if len(counts) > len(self.class_names):
            raise ConfigError(
                f'the segmentor predicts class {len(counts) - 1}, but only '
                f'{len(self.class_names)} class names are given')
        share = counts / max(seg.size, 1)
        order = sorted(range(len(counts)), key=lambda c: (-counts[c], c))
        return [
            self.class_names[c] for c in order
            if counts[c] > 0 and share[c] >= self.min_area
            and self.class_names[c].lower() not in self.ignore_classes
        ]

    def caption(self, images: List[Image.Image]) -> List[str]:
        """Caption a batch of images from their predicted segmentations.

        Args:
            images (list[PIL.Image.Image]): images of any size and mode.

        Returns:
            list[str]: one :func:`presence_caption` per image.
        """
        if not images:
            return []
        # mmseg pipelines expect BGR arrays, as mmcv.imread gives
        arrays = [
            np.ascontiguousarray(np.asarray(img.convert('RGB'))[..., ::-1])
            for img in images
        ]
        packed = [self.pipeline(dict(img=array)) for array in arrays]
        # a test batch must share one input size: predict size by size
        groups: Dict[tuple, List[int]] = {}
        for i, sample in enumerate(packed):
            groups.setdefault(tuple(sample['inputs'].shape), []).append(i)
        seg_maps: List[Optional[np.ndarray]] = [None] * len(packed)
        for indices in groups.values():
            data = dict(
                inputs=[packed[i]['inputs'] for i in indices],
                data_samples=[packed[i]['data_samples'] for i in indices])
            with torch.no_grad():
                results = self.model.test_step(data)
            for i, result in zip(indices, results):
                seg_maps[i] = result.pred_sem_seg.data[0].cpu().numpy()
        return [presence_caption(self.present_classes(s)) for s in seg_maps]
