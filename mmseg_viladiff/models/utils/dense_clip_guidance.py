"""SemiVL's dense CLIP guidance: pseudo labels from a frozen CLIP's MaskCLIP
predictions, and the loss on them.

SemiVL (Hoyer et al., ECCV 2024) runs a separate frozen CLIP ViT on the
weak unlabeled views: MaskCLIP dense embeddings (:mod:`.maskclip`) against
the class text (each class's concept phrases, max over the phrases), upsampled
to the image, p = softmax(temperature * cosine), label argmax p where
max p >= threshold, else ignored. The student's strong-view prediction is
trained on these labels (CutMixed like the images) with
``L_mc = sum_valid CE / (B * H * W)``, weighted by
``weight * (1 - t / T)`` (:func:`~.ramps.linear_decay`).
"""
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from ...text import get_vocabulary, load_open_clip
from ...utils.constants import IGNORE_INDEX
from ...utils.errors import ConfigError
from ..decode_heads.class_text import (build_class_promptor, concept_index,
                                       max_over_concepts)
from .maskclip import check_maskclip_visual, maskclip_embeddings

#: every key of ``semi_train_cfg.dense_guidance`` with its default
DEFAULT_DENSE_GUIDANCE = dict(
    # required: an open_clip architecture (e.g. 'ViT-B-16', with
    # `pretrained`) or 'local-dir:/path' (a saved open_clip model folder)
    model=None,
    # the architecture's weights: an open_clip tag ('openai') or a local
    # checkpoint file; ignored for 'local-dir:' models
    pretrained=None,
    # let open_clip fetch `pretrained` into its cache (GPU machines with
    # internet); False: local files only
    allow_download=False,
    # required: the class vocabulary whose concept phrases are the class
    # text ('voc', 'cityscapes', ... or a dict, see text/vocabularies.py);
    # its size must be the segmentor's number of classes
    vocabulary=None,
    # prompt templates of each phrase (None: the vocabulary module's)
    templates=None,
    # on-disk cache of the text embeddings (None: memory only)
    cache_dir='work_dirs/text_cache',
    # w: the loss weight at iteration 0 (SemiVL: 0.1)
    weight=0.1,
    # T: the weight decays linearly to 0 at this iteration; None: the
    # run's max_iters (told by SemiMeanTeacherHook)
    decay_iters=None,
    # softmax temperature of the cosine similarities (CLIP's 100)
    temperature=100.0,
    # pixels whose CLIP probability is below this are ignored
    threshold=0.9,
)
REQUIRED_KEYS = ('model', 'vocabulary')


def check_dense_guidance_cfg(cfg: dict,
                             key: str = 'semi_train_cfg.dense_guidance'
                             ) -> dict:
    """``cfg`` filled with :data:`DEFAULT_DENSE_GUIDANCE`, after checking
    it; a :class:`ConfigError` names ``key.<name>`` of a bad entry."""
    if not isinstance(cfg, dict):
        raise ConfigError(f'{key} must be None (off) or a dict, got {cfg!r}')
    unknown = set(cfg) - set(DEFAULT_DENSE_GUIDANCE)
    if unknown:
        raise ConfigError(f'unknown {key} keys '
                          f'{[f"{key}.{k}" for k in sorted(unknown)]}; '
                          f'known: {sorted(DEFAULT_DENSE_GUIDANCE)}')
    out = dict(DEFAULT_DENSE_GUIDANCE, **cfg)
    for name in REQUIRED_KEYS:
        if out[name] is None:
            raise ConfigError(f'{key}.{name} is required')
    if not isinstance(out['model'], str):
        raise ConfigError(f"{key}.model must be a str, got {out['model']!r}")
    for name in ('pretrained', 'cache_dir'):
        if out[name] is not None and not isinstance(out[name], str):
            raise ConfigError(f'{key}.{name} must be None or a str, got '
                              f'{out[name]!r}')
    if out['templates'] is not None and not isinstance(out['templates'],
                                                       (str, list, tuple)):
        raise ConfigError(f'{key}.templates must be None or prompt '
                          f"templates, got {out['templates']!r}")
    if isinstance(out['templates'], str):  # one template
        out['templates'] = (out['templates'], )
    if not isinstance(out['allow_download'], bool):
        raise ConfigError(f'{key}.allow_download must be True or False, got '
                          f"{out['allow_download']!r}")
    ranges = dict(
        weight=('>= 0', lambda v: v >= 0),
        temperature=('> 0', lambda v: v > 0),
        threshold=('in [0, 1]', lambda v: 0 <= v <= 1))
    for name, (text, ok) in ranges.items():
        value = out[name]
        number = isinstance(value, (int, float)) and \
            not isinstance(value, bool)
        if not number or not ok(value):
            raise ConfigError(f'{key}.{name} must be a number {text}, got '
                              f'{value!r}')
    iters = out['decay_iters']
    if iters is not None and (type(iters) is not int or iters <= 0):
        raise ConfigError(f'{key}.decay_iters must be None (the run\'s '
                          f'max_iters) or an int > 0, got {iters!r}')
    return out


def confident_labels(logits: Tensor, temperature: float,
                     threshold: float) -> Tensor:
    """argmax of softmax(temperature * logits), IGNORE_INDEX where its
    probability is below ``threshold``.

    Args:
        logits (Tensor): (B, K, H, W) e.g. cosine similarities.

    Returns:
        Tensor: (B, H, W) long.
    """
    probs = (temperature * logits.float()).softmax(dim=1)  # (B, K, H, W)
    confidence, labels = probs.max(dim=1)  # (B, H, W) each
    return labels.masked_fill(confidence < threshold, IGNORE_INDEX)


def dense_guidance_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """SemiVL's L_mc: cross-entropy summed over labelled pixels, divided by
    all pixels (B * H * W), so ignored pixels count as zero loss.

    Args:
        logits (Tensor): (B, K, H, W) the student's prediction.
        labels (Tensor): (B, H, W) long, IGNORE_INDEX where ignored.
    """
    ce = F.cross_entropy(
        logits.float(), labels, ignore_index=IGNORE_INDEX, reduction='sum')
    return ce / labels.numel()


class DenseCLIPGuidance:
    """Dense pseudo labels from a frozen open_clip model (SemiVL's MaskCLIP
    guidance), for images as the segmentor receives them.

    Not an ``nn.Module`` on purpose: held by a segmentor it adds no
    parameter to the optimiser, nothing to checkpoints and nothing for DDP
    to wrap. Its image tower stays in eval mode without gradients and
    moves to the device of the images it is given. The class text comes
    from a ``CaptionPromptor`` (``class_text='concepts'``) on the same
    CLIP's text tower, built once (the encoder is shared with any promptor
    of the same text-encoder config, the embeddings cached on disk); the
    model is read twice at build time, once per tower.

    Input normalisation: the segmentor's data preprocessor gives
    x = (pixel - input_mean) / input_std (0-255 scale, BGR unless it
    converts to RGB); CLIP wants (pixel / 255 - clip_mean) / clip_std in
    RGB with its own mean and std (OpenAI's for OpenAI weights, from
    open_clip's preprocessing config). :meth:`clip_input` maps one to the
    other exactly: x_clip = x * input_std / (255 clip_std) +
    (input_mean / 255 - clip_mean) / clip_std.

    Args:
        model (str): an open_clip architecture or ``local-dir:/path``.
        vocabulary (str | dict): the class vocabulary (concept phrases).
        num_classes (int): K, the segmentor's number of classes.
        pretrained (str, optional): weights of ``model`` (tag or file).
        allow_download (bool): let open_clip download ``pretrained``.
        templates (Sequence[str], optional): prompt templates.
        cache_dir (str, optional): text embedding cache folder.
        temperature (float): softmax temperature.
        threshold (float): confidence below which pixels are ignored.
        input_mean (Sequence[float], optional): the preprocessor's mean
            (0-255 scale, channel order of the inputs); None: 0.
        input_std (Sequence[float], optional): its std; None: 1.
        input_bgr (bool): the inputs are BGR (no ``bgr_to_rgb``).
        key (str): config key named in errors.
    """

    def __init__(self,
                 model: str,
                 vocabulary: Union[str, dict],
                 num_classes: int,
                 pretrained: Optional[str] = None,
                 allow_download: bool = False,
                 templates: Optional[Sequence[str]] = None,
                 cache_dir: Optional[str] = None,
                 temperature: float = 100.0,
                 threshold: float = 0.9,
                 input_mean: Optional[Sequence[float]] = None,
                 input_std: Optional[Sequence[float]] = None,
                 input_bgr: bool = False,
                 key: str = 'dense_guidance') -> None:
        import open_clip
        from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
        try:
            vocab = get_vocabulary(vocabulary)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f'{key}.vocabulary: {exc}') from exc
        if vocab.num_classes != num_classes:
            raise ConfigError(
                f'{key}.vocabulary {vocab.name!r} has {vocab.num_classes} '
                f'classes, the segmentor {num_classes}')
        encoder = dict(type='OpenCLIPTextEncoder', model_name=model)
        if pretrained is not None:  # equal configs share one encoder
            encoder['pretrained'] = pretrained
        if allow_download:
            encoder['allow_download'] = True
        promptor = build_class_promptor(
            dict(
                type='CaptionPromptor',
                text_encoder=encoder,
                vocabulary=vocabulary,
                templates=templates,
                cache_dir=cache_dir,
                class_text='concepts'), num_classes, key, 'max')
        self.concept_embeddings = promptor.concept_embeddings  # (P, D)
        self.concept_index = concept_index(promptor.concept_class,
                                           num_classes)  # (K, M)
        clip, _ = load_open_clip(model, pretrained, allow_download,
                                 f'{key}.model')
        check_maskclip_visual(clip.visual, f'{key}.model')
        self.visual: nn.Module = clip.visual.requires_grad_(False).eval()
        if self.visual.proj.shape[1] != self.concept_embeddings.shape[1]:
            raise ConfigError(f'{key}.model: image and text embeddings of '
                              f'{model!r} differ in size')
        pre = open_clip.get_model_preprocess_cfg(clip)
        clip_mean = torch.tensor(pre.get('mean', OPENAI_DATASET_MEAN))
        clip_std = torch.tensor(pre.get('std', OPENAI_DATASET_STD))
        mean = torch.tensor(input_mean if input_mean is not None else [0.] *
                            3).float()
        std = torch.tensor(input_std if input_std is not None else [1.] *
                           3).float()
        if input_bgr:  # the preprocessor's statistics follow the inputs
            mean, std = mean.flip(0), std.flip(0)
        self.input_bgr = input_bgr
        self.input_scale = (std / (255 * clip_std)).view(1, 3, 1, 1)
        self.input_shift = ((mean / 255 - clip_mean) / clip_std).view(
            1, 3, 1, 1)
        self.patch_size = tuple(self.visual.patch_size)
        self.temperature = temperature
        self.threshold = threshold

    @classmethod
    def from_cfg(cls, cfg: dict, num_classes: int,
                 data_preprocessor: Optional[nn.Module],
                 key: str) -> 'DenseCLIPGuidance':
        """Build from a checked ``dense_guidance`` config
        (:func:`check_dense_guidance_cfg`) for the inputs of
        ``data_preprocessor`` (an MMSeg ``SegDataPreProcessor``: its mean,
        std and ``bgr_to_rgb``)."""
        mean = getattr(data_preprocessor, 'mean', None)
        std = getattr(data_preprocessor, 'std', None)
        return cls(
            model=cfg['model'],
            vocabulary=cfg['vocabulary'],
            num_classes=num_classes,
            pretrained=cfg['pretrained'],
            allow_download=cfg['allow_download'],
            templates=cfg['templates'],
            cache_dir=cfg['cache_dir'],
            temperature=cfg['temperature'],
            threshold=cfg['threshold'],
            input_mean=None if mean is None else mean.flatten().tolist(),
            input_std=None if std is None else std.flatten().tolist(),
            input_bgr=not getattr(data_preprocessor, 'channel_conversion',
                                  False),
            key=key)

    @property
    def device(self) -> torch.device:
        return self.concept_embeddings.device

    def to(self, device: Union[str, torch.device]) -> 'DenseCLIPGuidance':
        """Move the image tower and the class text to ``device``."""
        self.visual.to(device)
        for name in ('concept_embeddings', 'concept_index', 'input_scale',
                     'input_shift'):
            setattr(self, name, getattr(self, name).to(device))
        return self

    def _follow(self, images: Tensor) -> None:
        """Move to the device of ``images`` (once, on first use there)."""
        if images.device != self.device:
            self.to(images.device)

    def clip_input(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) preprocessed images -> CLIP's normalisation, RGB."""
        self._follow(images)
        if self.input_bgr:
            images = images.flip(1)
        return images * self.input_scale + self.input_shift

    @torch.no_grad()
    def logits(self, images: Tensor) -> Tensor:
        """Cosine similarity of each patch to each class (max over the
        class's concept phrases).

        Args:
            images (Tensor): (B, 3, H, W) in CLIP's normalisation
                (:meth:`clip_input`), H and W multiples of the patch size.

        Returns:
            Tensor: (B, K, h, w), h and w the patch grid.
        """
        self._follow(images)
        emb = maskclip_embeddings(self.visual, images).float()  # (B,D,h,w)
        sim = torch.einsum('bdhw,pd->bphw', emb,
                           self.concept_embeddings.float())  # (B, P, h, w)
        return max_over_concepts(sim, self.concept_index)  # (B, K, h, w)

    @torch.no_grad()
    def labels(self, images: Tensor, valid: Optional[Tensor] = None) -> Tensor:
        """Guidance labels of preprocessed images.

        The CLIP input is padded (bottom, right) to a multiple of the patch
        size; the patch logits are upsampled bilinearly to the padded size
        and cropped, then :func:`confident_labels`.

        Args:
            images (Tensor): (B, 3, H, W) as the segmentor receives them.
            valid (Tensor, optional): (B, H, W) bool, False (e.g. batch
                padding) gives IGNORE_INDEX.

        Returns:
            Tensor: (B, H, W) long, IGNORE_INDEX where ignored.
        """
        h, w = images.shape[2:]
        ph, pw = self.patch_size
        x = self.clip_input(images.float())
        x = F.pad(x, (0, -w % pw, 0, -h % ph))  # (B, 3, H', W')
        logits = F.interpolate(
            self.logits(x),
            size=x.shape[2:],
            mode='bilinear',
            align_corners=False)[:, :, :h, :w]  # (B, K, H, W)
        labels = confident_labels(logits, self.temperature, self.threshold)
        if valid is not None:
            labels = labels.masked_fill(~valid, IGNORE_INDEX)
        return labels
