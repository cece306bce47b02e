"""EdgeAwareMixDiffusionHead: refine a segmentation by mask denoising."""
import math
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.cascade_decode_head import BaseCascadeDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor

from ...utils.constants import IGNORE_INDEX
from .mixed_noise import (alpha_bar_schedule, corrupt_mask, perturb_features,
                          reverse_step)


def timestep_embedding(t: Tensor, dim: int, max_period: float = 1e4) -> Tensor:
    """Sinusoidal embedding of (B,) steps -> (B, dim) (Vaswani et al.)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) *
                      torch.arange(half, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]  # (B, half)
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


@MODELS.register_module()
class EdgeAwareMixDiffusionHead(BaseCascadeDecodeHead):
    """Mask-denoising refiner trained with edge-aware mixed noise.

    Training (``loss``): the label map, at the feature resolution, is
    corrupted at a random step t by class flipping that is stronger in a
    band around label edges, the features get Gaussian noise, and the head
    predicts the clean mask from (noisy mask, noisy features, t) with
    cross-entropy (x0 prediction). See :mod:`.mixed_noise` for the maths.

    Inference (``forward``): starting from the previous head's prediction
    (``prev_output``, read as the noisy mask at step ``start_step``), run
    ``num_inference_steps`` denoising steps; the backbone runs once, only
    this head repeats. With ``num_inference_steps=0`` the output is the
    previous prediction unchanged. Used as the second head of an MMSeg
    ``CascadeEncoderDecoder`` (e.g. after ``DepthwiseSeparableASPPHead``),
    or alone as the decode head of an ``EncoderDecoder``: then inference
    starts from the uninformative mask (uniform class probabilities) at
    step T and denoises it in ``num_inference_steps`` steps, and training
    flips to uniform classes (there is no first prediction to draw from).
    Boundary-weighted loss: ``sampler=dict(type='EdgeBandPixelWeights')``.
    Adapted ideas: DDP (Ji et al., ICCV 2023: backbone once, few steps),
    DDPS (categorical diffusion on the first prediction).

    Args:
        num_timesteps (int): T of the forward process. Defaults to 100.
        schedule (str): 'cosine' or 'linear'.
        feature_noise_scale (float): s of the Gaussian feature noise.
        edge_gain (float): g of the edge-aware flip probability.
        edge_width (int): half-width of the edge band, in feature pixels.
        flip_source (str): 'uniform' (flip to a uniform class) or
            'prediction' (draw from the previous head's softmax, modelling
            its confusions).
        num_inference_steps (int): denoising steps K at inference.
        start_step (int, optional): the step the previous prediction is
            taken to be at; defaults to T // 2.
        **kwargs: ``BaseDecodeHead`` arguments (``in_channels``,
            ``channels``, ``in_index``, ``num_classes``, ``norm_cfg``,
            ``loss_decode``, ...).
    """

    def __init__(self,
                 num_timesteps: int = 100,
                 schedule: str = 'cosine',
                 feature_noise_scale: float = 1.0,
                 edge_gain: float = 1.0,
                 edge_width: int = 1,
                 flip_source: str = 'uniform',
                 num_inference_steps: int = 3,
                 start_step: Optional[int] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if flip_source not in ('uniform', 'prediction'):
            raise ValueError("flip_source must be 'uniform' or 'prediction', "
                             f'got {flip_source!r}')
        if num_inference_steps < 0:
            raise ValueError('num_inference_steps must be >= 0, got '
                             f'{num_inference_steps}')
        if num_inference_steps > num_timesteps:
            raise ValueError(f'num_inference_steps ({num_inference_steps}) '
                             f'must be <= num_timesteps ({num_timesteps})')
        self.num_timesteps = num_timesteps
        self.feature_noise_scale = feature_noise_scale
        self.edge_gain = edge_gain
        self.edge_width = edge_width
        self.flip_source = flip_source
        self.num_inference_steps = num_inference_steps
        self.start_step = num_timesteps // 2 if start_step is None else \
            start_step
        if not 0 < self.start_step <= num_timesteps:
            raise ValueError(f'start_step must be in [1, {num_timesteps}], '
                             f'got {self.start_step}')
        alpha_bar = alpha_bar_schedule(num_timesteps, schedule).float()
        self.register_buffer('alpha_bar', alpha_bar, persistent=False)
        self.register_buffer('flip_rate', 1 - alpha_bar, persistent=False)

        in_channels = sum(self.in_channels) if isinstance(
            self.in_channels, (list, tuple)) else self.in_channels
        conv = dict(
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        self.feature_proj = ConvModule(in_channels, self.channels, 1, **conv)
        self.mask_embed = ConvModule(
            self.num_classes, self.channels, 3, padding=1, **conv)
        self.time_mlp = nn.Sequential(
            nn.Linear(self.channels, self.channels), nn.SiLU(),
            nn.Linear(self.channels, 2 * self.channels))
        # 1x1 fusion keeps each repeated step cheap; spatial context comes
        # from the mask embedding and the body's 3x3 convolution
        self.fuse = ConvModule(2 * self.channels, self.channels, 1, **conv)
        self.body = ConvModule(
            self.channels, self.channels, 3, padding=1, **conv)

    # ------------------------------------------------------------------
    def denoise(self, feats: Tensor, mask: Tensor, t: Tensor) -> Tensor:
        """Predict clean-mask logits.

        Args:
            feats (Tensor): (B, C, h, w) projected (possibly noisy) features.
            mask (Tensor): (B, K, h, w) noisy mask, one-hot or soft.
            t (Tensor): (B,) long steps.

        Returns:
            Tensor: (B, K, h, w) logits of the clean mask.
        """
        x = self.fuse(torch.cat([feats, self.mask_embed(mask)], dim=1))
        temb = timestep_embedding(t * (1000 // self.num_timesteps),
                                  self.channels)  # (B, C)
        scale, shift = self.time_mlp(temb).chunk(2, dim=1)  # (B, C) each
        x = x * (1 + scale[..., None, None]) + shift[..., None, None]
        return self.cls_seg(self.body(x))

    def _features(self, inputs: List[Tensor]) -> Tensor:
        return self.feature_proj(self._transform_inputs(inputs))

    def _inference_steps(self, start: int) -> List[int]:
        """Steps visited at inference, from ``start`` down to 0."""
        k = self.num_inference_steps
        if k == 0:
            return [start]
        return [round(start * (k - i) / k) for i in range(k + 1)]

    def _denoise_from(self, feats: Tensor, probs: Tensor, start: int,
                      q: Optional[Tensor]) -> Tensor:
        """K steps from the soft mask ``probs`` (B, K, h, w) at ``start``;
        returns the last clean-mask logits."""
        steps = self._inference_steps(start)
        b = feats.shape[0]
        logits = None
        for t, t_prev in zip(steps[:-1], steps[1:]):
            t_vec = feats.new_full((b, ), t, dtype=torch.long)
            logits = self.denoise(feats, probs, t_vec)
            probs = reverse_step(
                logits.softmax(dim=1),
                feats.new_full((b, ), t_prev, dtype=torch.long),
                self.flip_rate, q)
        return logits

    def generate(self, feats: Tensor) -> Tensor:
        """Stand-alone inference: (B, C, h, w) projected features ->
        (B, K, h, w) logits, denoised from the uniform mask at step T."""
        if self.num_inference_steps == 0:
            raise ValueError('EdgeAwareMixDiffusionHead alone (no previous '
                             'head) needs num_inference_steps >= 1')
        b, _, h, w = feats.shape
        uniform = feats.new_full((b, self.num_classes, h, w),
                                 1.0 / self.num_classes)
        return self._denoise_from(feats, uniform, self.num_timesteps, None)

    def refine(self, first_logits: Tensor, feats: Tensor) -> Tensor:
        """K denoising steps from a first prediction.

        Args:
            first_logits (Tensor): (B, K, H', W') the first prediction.
            feats (Tensor): (B, C, h, w) projected features.

        Returns:
            Tensor: (B, K, h, w) refined logits (the first prediction,
            resized, when ``num_inference_steps == 0``).
        """
        first = resize(
            first_logits,
            size=feats.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)
        if self.num_inference_steps == 0:
            return first
        probs = first.softmax(dim=1)
        q = probs if self.flip_source == 'prediction' else None
        return self._denoise_from(feats, probs, self.start_step, q)

    def forward(self,
                inputs: List[Tensor],
                prev_output: Optional[Tensor] = None) -> Tensor:
        """Refined logits (B, K, h, w) from features and the previous head's
        logits (with K = 0 exactly ``prev_output``); without a previous
        head, logits generated from the features alone."""
        if prev_output is None:
            return self.generate(self._features(inputs))
        if self.num_inference_steps == 0:
            return prev_output
        return self.refine(prev_output, self._features(inputs))

    @staticmethod
    def _split_args(args: tuple, n: int) -> tuple:
        """(prev_output, *rest): cascade calls pass ``prev_output`` first,
        stand-alone calls (``EncoderDecoder``) do not."""
        return args if len(args) == n + 1 else (None, ) + tuple(args)

    def predict(self, inputs: List[Tensor], *args) -> Tensor:
        """``predict(inputs, [prev_output,] batch_img_metas, test_cfg)``:
        logits resized to the input image size."""
        prev_output, batch_img_metas, _ = self._split_args(args, 2)
        return self.predict_by_feat(
            self.forward(inputs, prev_output), batch_img_metas)

    def loss(self, inputs: List[Tensor], *args) -> dict:
        """``loss(inputs, [prev_output,] batch_data_samples, train_cfg)``:
        denoising loss on the labels of ``batch_data_samples``."""
        prev_output, batch_data_samples, _ = self._split_args(args, 2)
        feats = self._features(inputs)  # (B, C, h, w)
        labels = self._stack_batch_gt(batch_data_samples)  # (B, 1, H, W)
        labels = F.interpolate(
            labels.float(), size=feats.shape[2:],
            mode='nearest').long()[:, 0]  # (B, h, w)
        b = labels.shape[0]
        t = torch.randint(
            1, self.num_timesteps + 1, (b, ), device=labels.device)
        q = None
        if self.flip_source == 'prediction' and prev_output is not None:
            q = resize(
                prev_output.detach(),
                size=feats.shape[2:],
                mode='bilinear',
                align_corners=self.align_corners).softmax(dim=1)
        noisy = corrupt_mask(labels, t, self.flip_rate, self.num_classes,
                             self.edge_gain, self.edge_width, q)
        valid = noisy != IGNORE_INDEX
        mask = F.one_hot(
            noisy.clamp(max=self.num_classes - 1),
            self.num_classes).permute(0, 3, 1, 2).float()
        mask = mask * valid[:, None]  # ignored pixels: all-zero mask
        noisy_feats = perturb_features(feats, t, self.alpha_bar,
                                       self.feature_noise_scale)
        logits = self.denoise(noisy_feats, mask, t)
        return self.loss_by_feat(logits, batch_data_samples)
