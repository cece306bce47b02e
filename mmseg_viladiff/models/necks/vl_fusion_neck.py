"""VLFusionNeck: fuse a backbone's feature pyramid with caption and class
text, and distil the result into a vision-only path."""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from ...utils.constants import IGNORE_INDEX
from ...utils.errors import ConfigError

#: what the neck may run: 'train' (text paths + the vision path for
#: distillation), or one of the inference modes
INFER_MODES = ('caption', 'class', 'vision')
#: where the alignment loss compares similarity logits with labels:
#: 'level' (labels nearest-downsampled to each level's map) or 'label'
#: (logits bilinearly upsampled to the labels' resolution)
ALIGN_RESOLUTIONS = ('level', 'label')


def position_code(h: int, w: int, freqs: int, like: Tensor) -> Tensor:
    """Sine-cosine code (H*W, 4 * freqs) of each pixel's normalised (row,
    column) in (0, 1), row-major, frequencies pi * 2^k; dtype and device
    of ``like``."""
    kw = dict(dtype=like.dtype, device=like.device)
    rows = (torch.arange(h, **kw) + 0.5) / h
    cols = (torch.arange(w, **kw) + 0.5) / w
    rows, cols = torch.meshgrid(rows, cols, indexing='ij')  # (H, W) each
    scales = math.pi * 2.0**torch.arange(freqs, **kw)  # (F,)
    angles = [c.reshape(-1, 1) * scales for c in (rows, cols)]  # (HW, F)
    return torch.cat([f(a) for a in angles for f in (torch.sin, torch.cos)],
                     dim=1)


class CaptionCrossAttention(nn.Module):
    """Pixels attend to caption tokens; gated residual. A fresh block passes
    features through unchanged because its output projection starts at
    zero; the gate starts open (tanh(1) = 0.76), so that projection gets a
    gradient from the first step. (With the gate at zero instead, neither
    the projection nor, in practice, the gate learn: on the CamVid oracle
    row the gates reached 0.0005 and 0.004 in 400 iterations and captions
    changed no prediction; ``tools/vl_neck_stats.py``.)

    The attended text is layer-normalised before that projection. Without
    it the block cannot pass a caption's information: the attention's own
    projections leave the attended vectors at a scale of ~0.05, of which
    the part that differs between captions is ~0.02, so the zero-started
    projection would need weights ~50x its learning reach to turn it into
    a feature change. Measured on the synthetic task of
    ``tests/test_models/test_necks/test_vl_fusion_information.py`` (the
    label's class is named only by the caption): chance accuracy without
    the norm after 1000 SGD steps at lr 0.05 and 0.2, 98% with it (both
    without the position code below).

    The pixel queries also carry where each pixel lies: a fixed sine-cosine
    code of its normalised (row, column) through a learned linear map. A
    caption that says where ("a pedestrian on the left") can only reach the
    right pixels through it: on the synthetic task where the caption names
    the class of a left and of a right object that look alike, the block
    without it reaches 47% (it knows which two classes, not which is
    where), with it 97% (500 steps; ``test_vl_fusion_information.py``).

    Args:
        channels (int): C of the feature map.
        text_dim (int): D of the caption tokens.
        embed_dims (int): attention width E.
        num_heads (int): attention heads.
        position_freqs (int): frequencies of the position code per axis
            (0: queries without position).
    """

    def __init__(self,
                 channels: int,
                 text_dim: int,
                 embed_dims: int,
                 num_heads: int,
                 position_freqs: int = 4) -> None:
        super().__init__()
        if position_freqs < 0:
            raise ConfigError(f'position_freqs must be >= 0, got '
                              f'{position_freqs}')
        self.position_freqs = position_freqs
        self.norm = nn.LayerNorm(channels)
        self.query = nn.Linear(channels, embed_dims)
        self.position = nn.Linear(4 * position_freqs, embed_dims) \
            if position_freqs else None
        self.attn = nn.MultiheadAttention(
            embed_dims,
            num_heads,
            kdim=text_dim,
            vdim=text_dim,
            batch_first=True)
        self.attended_norm = nn.LayerNorm(embed_dims)
        self.out = nn.Linear(embed_dims, channels)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.gate = nn.Parameter(torch.ones(1))

    def forward(self, x: Tensor, tokens: Tensor,
                mask: Tensor) -> Tuple[Tensor, Tensor]:
        """x (B, C, H, W), tokens (B, L, D), mask (B, L) bool (True: real
        token) -> the features (B, C, H, W) and the normalised attended text
        (B, E, H, W) they were updated from. Samples without tokens are
        returned as they are; padded tokens receive no attention."""
        b, c, h, w = x.shape
        has_text = mask.any(dim=1)  # (B,)
        # a sample with no token attends to its (zero) first slot, and its
        # result is dropped below: avoids the NaN of an all-masked softmax
        key_padding = ~mask
        key_padding[:, 0] &= has_text
        q = self.query(self.norm(x.flatten(2).transpose(1, 2)))  # (B, HW, E)
        if self.position is not None:
            code = position_code(h, w, self.position_freqs, x)  # (HW, 4F)
            q = q + self.position(code)[None]
        attended, _ = self.attn(
            q,
            tokens,
            tokens,
            key_padding_mask=key_padding,
            need_weights=False)
        attended = self.attended_norm(attended)  # (B, HW, E)
        update = self.out(attended).transpose(1, 2).reshape(b, c, h, w)
        update = update * has_text.view(b, 1, 1, 1).to(update.dtype)
        attended = attended.transpose(1, 2).reshape(b, -1, h, w)
        return x + torch.tanh(self.gate) * update, attended


class ClassSimilarity(nn.Module):
    """Pixel-text similarity maps, fed back into the features.

    Args:
        channels (int): C of the feature map.
        text_dim (int): D of the class embeddings.
        num_classes (int): K.
        temperature (float): initial softmax temperature of the similarity
            logits (learned, as CLIP's logit scale).
    """

    def __init__(self,
                 channels: int,
                 text_dim: int,
                 num_classes: int,
                 temperature: float = 0.07) -> None:
        super().__init__()
        self.proj = nn.Conv2d(channels, text_dim, 1)
        self.logit_scale = nn.Parameter(
            torch.tensor(math.log(1 / temperature)))
        self.feedback = nn.Conv2d(num_classes, channels, 1)
        nn.init.zeros_(self.feedback.weight)
        nn.init.zeros_(self.feedback.bias)

    def forward(self, x: Tensor,
                class_embeddings: Tensor) -> Tuple[Tensor, Tensor]:
        """x (B, C, H, W), class_embeddings (K, D) -> features (B, C, H, W)
        and similarity logits (B, K, H, W)."""
        pixels = F.normalize(self.proj(x), dim=1)
        text = F.normalize(class_embeddings.to(pixels.dtype), dim=-1)
        scale = self.logit_scale.exp().clamp(max=100)
        sim = scale * torch.einsum('bdhw,kd->bkhw', pixels, text)
        return x + self.feedback(sim.softmax(dim=1)), sim


class VisionAdapter(nn.Module):
    """Vision-only stand-in for the text paths: x + conv(x), the last conv
    zero-initialised. Trained to match the fused features."""

    def __init__(self, channels: int, norm_cfg: dict) -> None:
        super().__init__()
        self.block = ConvModule(
            channels, channels, 3, padding=1, norm_cfg=norm_cfg)
        self.out = nn.Conv2d(channels, channels, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.out(self.block(x))


@MODELS.register_module()
class VLFusionNeck(BaseModule):
    """Dual-path vision-language fusion with distillation to vision only.

    * caption path: on ``caption_levels``, pixels attend to their image's
      caption tokens (masked cross-attention, gated residual); with
      ``ground_weight > 0`` a 1x1 classifier on the attended text alone
      (grounding logits (B, K, H, W)) is trained against the labels, so the
      attention learns to fetch each pixel's class from the caption instead
      of waiting for the small gradient an already-fitted decode head sends
      through the zero-started residual; with ``ground_prior`` as well,
      the grounding log-probabilities, scaled per class (learned, from
      ``prior_init``), form a text prior (B, K, H, W) that the segmentor adds to the
      decode head's logits (late fusion: the text reaches the prediction
      without the head having to learn to read it from the features);
    * class path: on ``class_levels``, similarity logits (B, K, H, W)
      between projected pixels and the K class embeddings; their softmax is
      fed back into the features, and ``loss`` aligns them with labels or
      pseudo labels (cross-entropy), at the level's resolution or, with
      ``align_resolution='label'``, on logits upsampled to the labels'
      resolution (so thin classes that nearest-downsampling drops from a
      coarse map still supervise it);
    * vision path: a small adapter per text-touched level, trained to match
      the fused features (stop-gradient on the fused side), so inference
      can run without any text.

    The output pyramid has the input's shapes, so DeepLabV3+ or any MMSeg
    head reads it unchanged. Called as ``neck(feats, text, mode)`` by
    :class:`~mmseg_viladiff.models.VLEncoderDecoder`, which supplies the
    text from a ``CaptionPromptor``.

    Args:
        in_channels (Sequence[int]): channels of each input level.
        text_dim (int): D of the text encoder.
        num_classes (int): K, the vocabulary size.
        caption_levels (Sequence[int]): levels with the caption path
            (negative indices count from the deepest).
        class_levels (Sequence[int]): levels with the class path.
        embed_dims (int): cross-attention width.
        num_heads (int): cross-attention heads.
        caption_position_freqs (int): frequencies per axis of the position
            code in the caption path's pixel queries (0: none; see
            :class:`CaptionCrossAttention`).
        infer_mode (str): what inference uses: 'caption' (captions and
            class text), 'class' (class text only) or 'vision' (no text).
        caption_dropout (float): in training, probability that a sample's
            caption is dropped (its caption path is skipped), so the model
            also learns to work from class text alone.
        align_weight (float): weight of the similarity-map alignment loss.
        ground_weight (float): weight of the caption grounding loss (0: no
            grounding classifier). Its labels and resolution follow
            ``align_resolution``; samples whose caption is empty or dropped
            are left out.
        ground_prior (bool): also return the text prior ``prior`` (needs
            ``ground_weight > 0``); see above.
        prior_init (float): the per-class prior scales' initial value (0:
            a fresh prior changes no prediction; 1: the grounding
            log-probabilities as they are, for a neck whose grounding is
            already trained: on the CamVid oracle crop row a fixed scale of
            1 is the best on val, ``benchmarks/text_prior_sweep.py``).
        align_resolution (str): 'level' (default; labels nearest-downsampled
            to each class level: at stride 16 a 192 crop gives a 12x12 map
            in which about half of the crops holding a pole or a pedestrian
            keep no pixel of it) or 'label' (similarity logits bilinearly
            upsampled to the labels' resolution, as decode heads compute
            their loss: every labelled pixel counts).
        distill_weight (float): weight of the distillation loss.
        temperature (float): initial temperature of the similarity logits.
        norm_cfg (dict): norm of the vision adapters.
        init_cfg (dict, optional): initialisation config.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 text_dim: int,
                 num_classes: int,
                 caption_levels: Sequence[int] = (-2, -1),
                 class_levels: Sequence[int] = (-1, ),
                 embed_dims: int = 256,
                 num_heads: int = 8,
                 caption_position_freqs: int = 4,
                 infer_mode: str = 'vision',
                 caption_dropout: float = 0.0,
                 align_weight: float = 0.5,
                 ground_weight: float = 0.0,
                 ground_prior: bool = False,
                 prior_init: float = 0.0,
                 align_resolution: str = 'level',
                 distill_weight: float = 1.0,
                 temperature: float = 0.07,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if infer_mode not in INFER_MODES:
            raise ConfigError(f'VLFusionNeck.infer_mode must be one of '
                              f'{INFER_MODES}, got {infer_mode!r}')
        if not 0 <= caption_dropout <= 1:
            raise ConfigError(f'VLFusionNeck.caption_dropout must be in '
                              f'[0, 1], got {caption_dropout}')
        if ground_weight < 0:
            raise ConfigError(f'VLFusionNeck.ground_weight must be >= 0, '
                              f'got {ground_weight}')
        if ground_prior and not ground_weight > 0:
            raise ConfigError('VLFusionNeck.ground_prior needs '
                              'ground_weight > 0 (the prior is the grounding '
                              'classifier\'s output)')
        if align_resolution not in ALIGN_RESOLUTIONS:
            raise ConfigError(f'VLFusionNeck.align_resolution must be one of '
                              f'{ALIGN_RESOLUTIONS}, got {align_resolution!r}')
        n = len(in_channels)
        self.in_channels = list(in_channels)
        self.caption_levels = self._levels(caption_levels, n, 'caption')
        self.class_levels = self._levels(class_levels, n, 'class')
        self.text_levels = sorted(set(self.caption_levels + self.class_levels))
        self.text_dim = text_dim
        self.num_classes = num_classes
        self.infer_mode = infer_mode
        self.caption_dropout = caption_dropout
        self.align_weight = align_weight
        self.ground_weight = ground_weight
        self.ground_prior = ground_prior
        self.align_resolution = align_resolution
        self.distill_weight = distill_weight
        self.caption_attn = nn.ModuleDict({
            str(i):
            CaptionCrossAttention(in_channels[i], text_dim, embed_dims,
                                  num_heads, caption_position_freqs)
            for i in self.caption_levels
        })
        self.grounding = nn.ModuleDict({
            str(i): nn.Conv2d(embed_dims, num_classes, 1)
            for i in self.caption_levels
        }) if ground_weight > 0 else None
        self.prior_scale = nn.Parameter(
            torch.full((num_classes, ), float(prior_init))) \
            if ground_prior else None
        self.class_path = nn.ModuleDict({
            str(i):
            ClassSimilarity(in_channels[i], text_dim, num_classes, temperature)
            for i in self.class_levels
        })
        self.vision_path = nn.ModuleDict({
            str(i):
            VisionAdapter(in_channels[i], norm_cfg)
            for i in self.text_levels
        })

    @staticmethod
    def _levels(levels: Sequence[int], n: int, name: str) -> List[int]:
        out = []
        for level in levels:
            if not -n <= level < n:
                raise ConfigError(f'VLFusionNeck.{name}_levels: level '
                                  f'{level} out of range for {n} inputs')
            out.append(level % n)
        return sorted(set(out))

    def forward(
        self,
        inputs: Sequence[Tensor],
        text: Optional[Dict[str, Tensor]] = None,
        mode: Optional[str] = None
    ) -> Tuple[Tuple[Tensor, ...], Dict[str, dict]]:
        """Fuse text into the pyramid.

        Args:
            inputs (Sequence[Tensor]): levels (B, C_i, H_i, W_i).
            text (dict[str, Tensor], optional): ``CaptionPromptor`` output:
                ``class_embeddings`` (K, D), and ``caption_tokens``
                (B, L, D) with ``caption_mask`` (B, L) for caption modes.
            mode (str, optional): 'train', or an inference mode; defaults to
                'train' in training mode, else ``infer_mode``.

        Returns:
            tuple: the output pyramid (same shapes as ``inputs``), and aux
            outputs for :meth:`loss`: ``similarity`` and ``grounding``
            (level -> (B, K, H_i, W_i) logits), ``has_caption`` ((B,) bool:
            the samples the caption path read), ``fused`` and ``vision``
            (level -> features), and with ``ground_prior`` the text prior
            ``prior`` (B, K, H, W) of the caption modes.
        """
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'VLFusionNeck expects {len(self.in_channels)} '
                             f'levels, got {len(inputs)}')
        mode = mode or ('train' if self.training else self.infer_mode)
        if mode not in INFER_MODES + ('train', ):
            raise ConfigError(f'VLFusionNeck mode {mode!r} is not one of '
                              f"{INFER_MODES + ('train', )}")
        outs = list(inputs)
        aux = dict(similarity={}, grounding={}, fused={}, vision={})
        if mode in ('train', 'vision'):
            aux['vision'] = {
                i: self.vision_path[str(i)](inputs[i])
                for i in self.text_levels
            }
        if mode == 'vision':
            for i, feat in aux['vision'].items():
                outs[i] = feat
            return tuple(outs), aux
        if mode in ('train', 'caption'):
            tokens, mask = text['caption_tokens'], text['caption_mask']
            if mode == 'train' and self.caption_dropout > 0:
                keep = torch.rand(mask.shape[0], device=mask.device) >= \
                    self.caption_dropout
                mask = mask & keep[:, None]
            aux['has_caption'] = mask.any(dim=1)
            for i in self.caption_levels:
                outs[i], attended = self.caption_attn[str(i)](outs[i], tokens,
                                                              mask)
                if self.grounding is not None:
                    aux['grounding'][i] = self.grounding[str(i)](attended)
            if self.ground_prior:
                aux['prior'] = self._prior(aux['grounding'],
                                           aux['has_caption'])
        for i in self.class_levels:
            outs[i], aux['similarity'][i] = self.class_path[str(i)](
                outs[i], text['class_embeddings'])
        aux['fused'] = {i: outs[i] for i in self.text_levels}
        return tuple(outs), aux

    def _prior(self, grounding: Dict[int, Tensor], has_caption: Tensor) -> Tensor:
        """The text prior (B, K, H, W) at the finest caption level: the mean
        over caption levels of the grounding log-probabilities (bilinearly
        upsampled), times ``prior_scale``; 0 for samples without caption."""
        size = max((g.shape[2:] for g in grounding.values()),
                   key=lambda s: s[0] * s[1])
        logp = torch.stack([
            F.interpolate(
                g, size=size, mode='bilinear',
                align_corners=False).log_softmax(dim=1)
            for g in grounding.values()
        ]).mean(dim=0)  # (B, K, H, W)
        keep = has_caption.view(-1, 1, 1, 1).to(logp.dtype)
        return logp * self.prior_scale.view(1, -1, 1, 1) * keep

    def _align_loss(self, sim: Tensor, gt: Tensor) -> Tensor:
        """Cross-entropy of similarity logits (B, K, h, w) against labels
        (B, 1, H, W) (255 ignored), at the resolution ``align_resolution``
        says; a zero that keeps the graph when no label is valid."""
        if self.align_resolution == 'label':
            sim = F.interpolate(
                sim, size=gt.shape[2:], mode='bilinear',
                align_corners=False)  # (B, K, H, W)
            labels = gt[:, 0].long()
        else:
            labels = F.interpolate(
                gt.float(), size=sim.shape[2:],
                mode='nearest')[:, 0].long()  # (B, h, w)
        labels = labels.to(sim.device)
        if not (labels != IGNORE_INDEX).any():
            return sim.sum() * 0
        return F.cross_entropy(sim, labels, ignore_index=IGNORE_INDEX)

    def loss(self, aux: Dict[str, dict], data_samples: list) -> dict:
        """Alignment and distillation losses of a ``forward`` in 'train'
        mode.

        Args:
            aux (dict): the aux output of :meth:`forward`.
            data_samples (list[SegDataSample]): with ``gt_sem_seg`` (labels
                or pseudo labels; 255 ignored).

        Returns:
            dict[str, Tensor]: ``loss_vl_align`` (cross-entropy of the
            similarity logits against the labels: nearest-downsampled to
            each level, or with the logits bilinearly upsampled to the
            labels' resolution, see ``align_resolution``), with
            ``ground_weight`` ``loss_vl_ground`` (the same cross-entropy of
            the caption path's grounding logits, captioned samples only),
            and ``loss_vl_distill`` (MSE of vision path vs detached fused
            features, relative to the fused features' mean square).
        """
        losses = {}
        if aux['similarity']:
            gt = torch.stack([s.gt_sem_seg.data for s in data_samples])
            align = [
                self._align_loss(sim, gt)
                for sim in aux['similarity'].values()
            ]
            losses['loss_vl_align'] = self.align_weight * torch.stack(
                align).mean()
        if aux['grounding']:
            gt = torch.stack([s.gt_sem_seg.data for s in data_samples])
            # a sample the caption path did not read has nothing to ground
            gt = gt.masked_fill(
                ~aux['has_caption'].to(gt.device).view(-1, 1, 1, 1),
                IGNORE_INDEX)
            ground = [
                self._align_loss(logits, gt)
                for logits in aux['grounding'].values()
            ]
            losses['loss_vl_ground'] = self.ground_weight * torch.stack(
                ground).mean()
        if aux['vision'] and aux['fused']:
            distill = []
            for i, vision in aux['vision'].items():
                target = aux['fused'][i].detach()
                distill.append(
                    F.mse_loss(vision, target) /
                    target.pow(2).mean().clamp(min=1e-6))
            losses['loss_vl_distill'] = self.distill_weight * torch.stack(
                distill).mean()
        return losses
