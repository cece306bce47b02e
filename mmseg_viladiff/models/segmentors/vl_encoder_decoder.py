"""MMSeg segmentors whose neck reads text: ``VLEncoderDecoder`` and
``VLCascadeEncoderDecoder``."""
import contextlib
from typing import List, Optional, Tuple

from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
import torch.nn.functional as F
from torch import Tensor, nn

from ...utils.errors import ConfigError
from ..necks import VLFusionNeck
from .refine_cascade_encoder_decoder import RefineCascadeEncoderDecoder


class VLSegmentorMixin:
    """Adds a ``CaptionPromptor`` to an encoder-decoder whose neck is a
    :class:`~mmseg_viladiff.models.VLFusionNeck`.

    The text a batch needs comes from the samples' metainfo (``caption``):
    ``loss`` and ``_forward`` take it from their data samples and
    ``encode_decode`` (whole or slide inference) from its image metas, then
    ``extract_feat`` runs backbone -> promptor -> neck. Everything else
    (decode heads, auxiliary heads, inference modes) is MMSeg's own.

    Inference with ``infer_mode='vision'`` replaces the text levels by the
    neck's vision adapters, which the feature distillation alone trains; the
    decode heads would then meet features they were never trained on. With
    ``vision_task_weight > 0`` the decode heads also run on the vision-only
    pyramid in training and take their own task loss there (same labels or
    pseudo labels, ignore mask and class weights), logged as
    ``vision.decode.*``, so the path used at test time is trained end to
    end: the gradient reaches the heads, the adapters and the backbone.
    A task loss rather than a KL to the fused path's logits: it needs no
    temperature, does not copy the fused path's errors, and on unlabeled
    images its targets already are the pseudo labels of a teacher that read
    the captions, which is how the text's information reaches the vision
    path.

    With ``vision_kl_weight > 0`` the vision-only logits are also pulled
    towards the fused path's logits of the same images (the text prior
    included, no gradient to them) by a KL divergence on every pixel,
    ``vision.loss_kl``: the soft, unthresholded way to hand what the text
    added to the path inference uses (one decode head only).

    A neck with ``ground_prior`` returns a text prior (B, K, h, w) with the
    caption modes; it is added to the decode head's logits (bilinearly
    resized to them) wherever they are computed from that neck's output:
    the task loss on fused features, inference, and a mean teacher's
    pseudo labels (:meth:`add_text_prior`); never to the vision-only
    pyramid's.

    Args:
        promptor (dict): config of the ``CaptionPromptor``.
        vision_task_weight (float): weight of the decode heads' loss on the
            vision-only pyramid (0: off, the heads see fused features only).
        vision_kl_weight (float): weight of the KL divergence from the
            fused logits to the vision-only ones (0: off).
        vision_kl_temperature (float): the softmax temperature of that KL
            (the loss is scaled by its square).
        **kwargs: the arguments of the base segmentor (``neck`` must be a
            ``VLFusionNeck``).
    """

    def __init__(self,
                 promptor: dict,
                 vision_task_weight: float = 0.0,
                 vision_kl_weight: float = 0.0,
                 vision_kl_temperature: float = 1.0,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        for key, value in (('vision_task_weight', vision_task_weight),
                           ('vision_kl_weight', vision_kl_weight)):
            if value < 0:
                raise ConfigError(f'{key} must be >= 0, got {value}')
        if not vision_kl_temperature > 0:
            raise ConfigError(f'vision_kl_temperature must be > 0, got '
                              f'{vision_kl_temperature}')
        self.vision_task_weight = vision_task_weight
        self.vision_kl_weight = vision_kl_weight
        self.vision_kl_temperature = vision_kl_temperature
        self.promptor = MODELS.build(promptor)
        if not isinstance(getattr(self, 'neck', None), VLFusionNeck):
            raise ConfigError(f'{type(self).__name__} needs neck='
                              f"dict(type='VLFusionNeck', ...)")
        heads = self.decode_head
        head = heads[-1] if isinstance(heads, nn.ModuleList) else heads
        vocab, dim = self.promptor.num_classes, self.promptor.embed_dim
        for key, got, want in (('neck.num_classes', self.neck.num_classes,
                                vocab), ('decode_head.num_classes',
                                         head.num_classes, vocab),
                               ('neck.text_dim', self.neck.text_dim, dim)):
            if got != want:
                raise ConfigError(
                    f'{key} = {got}, but the promptor (vocabulary '
                    f'{self.promptor.vocabulary.name!r}, text dim {dim}) '
                    f'needs {want}')
        for key, on in (('neck.ground_prior', self.neck.ground_prior),
                        ('vision_kl_weight', vision_kl_weight > 0)):
            if on and isinstance(heads, nn.ModuleList):
                raise ConfigError(
                    f'{key} works on one decode head\'s logits; '
                    f'{type(self).__name__} has a cascade of {len(heads)} '
                    f'heads')
        self._text_metas: Optional[List[dict]] = None
        # the text prior of the latest extract_feat (None: none)
        self._text_prior: Optional[Tensor] = None
        # the logits of the latest training pass through the decode head
        # (with ground_prior or the KL on)
        self._train_logits: Optional[Tensor] = None

    @contextlib.contextmanager
    def _metas(self, batch_img_metas: Optional[List[dict]]):
        old, self._text_metas = self._text_metas, batch_img_metas
        try:
            yield
        finally:
            self._text_metas = old

    def extract_feat_with_aux(
            self,
            inputs: Tensor,
            batch_img_metas: Optional[List[dict]] = None,
            mode: Optional[str] = None) -> Tuple[Tuple[Tensor, ...], dict]:
        """Backbone -> text -> neck.

        Args:
            inputs (Tensor): (B, 3, H, W).
            batch_img_metas (list[dict], optional): metainfo of the B images
                (with ``caption``); defaults to those of the enclosing
                ``loss``/``predict`` call.
            mode (str, optional): the neck mode ('train', 'caption',
                'class', 'vision'); defaults to 'train' in training mode and
                the neck's ``infer_mode`` otherwise.

        Returns:
            tuple: neck outputs and the neck's aux dict.
        """
        mode = mode or ('train' if self.training else self.neck.infer_mode)
        metas = batch_img_metas if batch_img_metas is not None else \
            self._text_metas
        text = None
        if mode in ('train', 'caption'):
            if metas is None:
                raise ConfigError(
                    f'VLFusionNeck mode {mode!r} needs the images\' captions '
                    f'but no image metas were given; call with '
                    f"batch_img_metas or use infer_mode 'class'/'vision'")
            text = self.promptor(metas)
        elif mode == 'class':
            text = self.promptor()
        outs, aux = self.neck(self.backbone(inputs), text, mode)
        self._text_prior = aux.get('prior')
        return outs, aux

    def add_text_prior(self, logits: Tensor) -> Tensor:
        """``logits`` (B, K, H, W) of the decode head on the latest
        ``extract_feat``'s pyramid, plus that pyramid's text prior resized
        to them (unchanged without a prior)."""
        prior = self._text_prior
        if prior is None:
            return logits
        if prior.shape[:2] != logits.shape[:2]:
            raise ValueError(f'text prior {tuple(prior.shape)} does not '
                             f'match decode logits {tuple(logits.shape)}')
        return logits + F.interpolate(
            prior, size=logits.shape[2:], mode='bilinear',
            align_corners=False)

    def extract_feat(self,
                     inputs: Tensor,
                     batch_img_metas: Optional[List[dict]] = None,
                     mode: Optional[str] = None) -> Tuple[Tensor, ...]:
        return self.extract_feat_with_aux(inputs, batch_img_metas, mode)[0]

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]):
        with self._metas(batch_img_metas):
            if not self.neck.ground_prior:
                return super().encode_decode(inputs, batch_img_metas)
            x = self.extract_feat(inputs)
            logits = self.add_text_prior(self.decode_head.forward(x))
            return self.decode_head.predict_by_feat(logits, batch_img_metas)

    def _forward(self, inputs: Tensor, data_samples=None):
        metas = [s.metainfo for s in data_samples] if data_samples else None
        with self._metas(metas):
            if not self.neck.ground_prior:
                return super()._forward(inputs, data_samples)
            return self.add_text_prior(
                self.decode_head.forward(self.extract_feat(inputs)))

    def _decode_head_forward_train(self, inputs: Tuple[Tensor, ...],
                                   data_samples: list) -> dict:
        if not (self.neck.ground_prior or self.vision_kl_weight > 0):
            return super()._decode_head_forward_train(inputs, data_samples)
        logits = self.add_text_prior(self.decode_head.forward(inputs))
        self._train_logits = logits
        losses = self.decode_head.loss_by_feat(logits, data_samples)
        return {f'decode.{k}': v for k, v in losses.items()}

    def loss(self, inputs: Tensor, data_samples: list) -> dict:
        """Decode-head (and auxiliary-head) losses on the fused features,
        the neck's ``loss_vl_align`` and ``loss_vl_distill``, and with
        ``vision_task_weight`` the decode heads' losses on the vision-only
        pyramid (``vision.decode.*``)."""
        x, aux = self.extract_feat_with_aux(inputs,
                                            [s.metainfo for s in data_samples])
        losses = dict(self._decode_head_forward_train(x, data_samples))
        if self.with_auxiliary_head:
            losses.update(self._auxiliary_head_forward_train(x, data_samples))
        losses.update(self.neck.loss(aux, data_samples))
        if (self.vision_task_weight > 0
                or self.vision_kl_weight > 0) and aux['vision']:
            losses.update(self._vision_task_loss(x, aux, data_samples))
        return losses

    def _vision_task_loss(self, x: Tuple[Tensor, ...], aux: dict,
                          data_samples: list) -> dict:
        """The decode heads' losses on ``x`` with the text levels replaced
        by the vision adapters' features (what ``infer_mode='vision'``
        feeds them), times ``vision_task_weight``, keys ``vision.*`` (none
        at weight 0); with ``vision_kl_weight`` also ``vision.loss_kl`` to
        the fused logits the decode loss on ``x`` just computed."""
        fused = self._train_logits
        pyramid = list(x)
        for level, feat in aux['vision'].items():
            pyramid[level] = feat
        losses = {}
        if self.vision_task_weight > 0:
            prior, self._text_prior = self._text_prior, None  # text-free
            try:
                losses = self._decode_head_forward_train(
                    tuple(pyramid), data_samples)
            finally:
                self._text_prior = prior
            losses = {
                f'vision.{k}':
                v * self.vision_task_weight if 'loss' in k else v
                for k, v in losses.items()
            }
        if self.vision_kl_weight > 0:
            # the task loss above left the vision-only logits here
            vision = self._train_logits if self.vision_task_weight > 0 \
                else self.decode_head.forward(tuple(pyramid))
            losses['vision.loss_kl'] = self.vision_kl_weight * softmax_kl(
                vision, fused.detach(), self.vision_kl_temperature)
        return losses


def softmax_kl(logits: Tensor, target: Tensor, temperature: float) -> Tensor:
    """Mean over pixels of KL(softmax(target / T) || softmax(logits / T))
    times T², both (B, K, H, W); the gradient flows into ``logits``."""
    log_p = F.log_softmax(logits / temperature, dim=1)
    log_q = F.log_softmax(target / temperature, dim=1)
    kl = F.kl_div(log_p, log_q, log_target=True, reduction='none').sum(1)
    return kl.mean() * temperature**2


@MODELS.register_module()
class VLEncoderDecoder(VLSegmentorMixin, EncoderDecoder):
    """``EncoderDecoder`` with a text-reading ``VLFusionNeck``; see
    :class:`VLSegmentorMixin`."""


@MODELS.register_module()
class VLCascadeEncoderDecoder(VLSegmentorMixin, RefineCascadeEncoderDecoder):
    """``RefineCascadeEncoderDecoder`` (e.g. DeepLabV3+ then
    ``EdgeAwareMixDiffusionHead`` reading its decoder features) with a
    ``VLFusionNeck``; see :class:`VLSegmentorMixin`."""
