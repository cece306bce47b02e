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

from ...utils.errors import ConfigError
from .calibration import fit_temperature
from .mixed_noise import (alpha_bar_schedule, mix_mask, perturb_features_vp,
                          reverse_step, unit_rms)

#: attribute of the previous head's tapped module holding its last input
_TAPPED = '_viladiff_tapped_features'


def timestep_embedding(t: Tensor, dim: int, max_period: float = 1e4) -> Tensor:
    """Sinusoidal embedding of (B,) steps -> (B, dim) (Vaswani et al.)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) *
                      torch.arange(half, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]  # (B, half)
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


def _store_input(module: nn.Module, args: tuple) -> None:
    """Forward pre-hook: keep the module's input (the previous head's
    features before its classifier) for the refining head to read."""
    setattr(module, _TAPPED, args[0])


@MODELS.register_module()
class EdgeAwareMixDiffusionHead(BaseCascadeDecodeHead):
    """Mask-denoising refiner trained with edge-aware mixed noise.

    Training (``loss``): at a random step t the head reads the soft noisy
    mask ``m_t = (1 - b_t(p)) onehot(y) + b_t(p) q`` (:func:`mix_mask`,
    flips more likely in a band around label edges; ``q`` the previous
    head's softmax with ``flip_source='prediction'``, else uniform) and
    condition features with variance-preserving Gaussian noise, and predicts
    the clean mask (x0 prediction, cross-entropy).

    Inference (``forward``): from the previous head's softmax ``p`` (the
    expected noisy mask at step ``start_step``: ``p`` itself for
    'prediction', ``(1 - b_s) p + b_s / K`` for 'uniform'), run
    ``num_inference_steps`` deterministic steps (:func:`reverse_step`); the
    backbone runs once, only this head repeats. ``num_inference_steps=0``
    returns the previous prediction unchanged. Alone (an ``EncoderDecoder``
    decode head) it denoises the uniform mask from step T.

    Why training and sampling match (issue 14):

    * the mask is soft in both: training reads :func:`mix_mask`, sampling
      :func:`reverse_step`'s mixture, both distributions per pixel; at
      t = T with 'prediction' both are exactly the previous head's softmax;
    * ``start_step`` defaults to T with 'prediction': the previous head's
      output *is* the forward process at T there, so the head learns to
      correct it, not to sharpen a half-true mask (T // 2 with 'uniform');
    * condition features are made unit-RMS per pixel (:func:`unit_rms`,
      no parameters) before the noise of :func:`perturb_features_vp`, so a
      learnable projection cannot scale the signal above the noise, and the
      clean features read at inference have the noisy ones' second moment;
    * ``condition_on_decoder=True``: the condition adds the previous head's
      features before its classifier (DeepLabV3+'s decoder output), read by
      a forward pre-hook that ``RefineCascadeEncoderDecoder`` attaches
      (:meth:`attach_decoder`), detached (the refiner leaves the first
      head's training alone);
    * ``calibrate=True``: after each training step the head refines its
      labeled batch as at inference (eval mode, no gradient), fits a
      temperature to those logits (:func:`fit_temperature`) and keeps an EMA
      in the ``temperature`` buffer; refined logits are divided by it, so
      the refined softmax's confidence is calibrated on labeled pixels
      (argmax unchanged).

    Adapted ideas: DDP (Ji et al., ICCV 2023: backbone once, few steps),
    DDPS (categorical diffusion on the first prediction), temperature
    scaling (Guo et al., ICML 2017).

    Args:
        num_timesteps (int): T of the forward process. Defaults to 100.
        schedule (str): 'cosine' or 'linear'.
        feature_noise_scale (float): s in [0, 1] of the variance-preserving
            feature noise: the noise's share of the features' standard
            deviation at t = T (1: pure noise at T). Defaults to 0.5.
        edge_gain (float): g of the edge-aware flip probability.
        edge_width (int): half-width of the edge band, in feature pixels.
        flip_source (str): 'uniform' (flip to a uniform class) or
            'prediction' (the previous head's softmax, its confusions).
        num_inference_steps (int): denoising steps K at inference.
        start_step (int, optional): the step the previous prediction is
            taken to be at; defaults to T for 'prediction', T // 2 for
            'uniform'.
        condition_on_decoder (bool): also condition on the previous head's
            features (needs ``RefineCascadeEncoderDecoder``).
        calibrate (bool): fit the ``temperature`` of refined logits on the
            labeled batches of training.
        calibration_momentum (float): EMA momentum of the temperature.
        **kwargs: ``BaseDecodeHead`` arguments (``in_channels``,
            ``channels``, ``in_index``, ``num_classes``, ``norm_cfg``,
            ``loss_decode``, ...).
    """

    def __init__(self,
                 num_timesteps: int = 100,
                 schedule: str = 'cosine',
                 feature_noise_scale: float = 0.5,
                 edge_gain: float = 1.0,
                 edge_width: int = 1,
                 flip_source: str = 'uniform',
                 num_inference_steps: int = 3,
                 start_step: Optional[int] = None,
                 condition_on_decoder: bool = False,
                 calibrate: bool = True,
                 calibration_momentum: float = 0.9,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if flip_source not in ('uniform', 'prediction'):
            raise ConfigError("flip_source must be 'uniform' or "
                              f"'prediction', got {flip_source!r}")
        if num_inference_steps < 0:
            raise ConfigError('num_inference_steps must be >= 0, got '
                              f'{num_inference_steps}')
        if num_inference_steps > num_timesteps:
            raise ConfigError(f'num_inference_steps ({num_inference_steps}) '
                              f'must be <= num_timesteps ({num_timesteps})')
        if not 0 <= feature_noise_scale <= 1:
            raise ConfigError(
                'feature_noise_scale must be in [0, 1] (the noise share of '
                'variance-preserving feature noise at t = T), got '
                f'{feature_noise_scale}')
        if not 0 <= calibration_momentum < 1:
            raise ConfigError('calibration_momentum must be in [0, 1), got '
                              f'{calibration_momentum}')
        self.num_timesteps = num_timesteps
        self.feature_noise_scale = feature_noise_scale
        self.edge_gain = edge_gain
        self.edge_width = edge_width
        self.flip_source = flip_source
        self.num_inference_steps = num_inference_steps
        if start_step is None:
            start_step = num_timesteps if flip_source == 'prediction' \
                else num_timesteps // 2
        self.start_step = start_step
        if not 0 < self.start_step <= num_timesteps:
            raise ConfigError(f'start_step must be in [1, {num_timesteps}], '
                              f'got {self.start_step}')
        self.condition_on_decoder = condition_on_decoder
        self.calibrate = calibrate
        self.calibration_momentum = calibration_momentum
        alpha_bar = alpha_bar_schedule(num_timesteps, schedule).float()
        self.register_buffer('alpha_bar', alpha_bar, persistent=False)
        self.register_buffer('flip_rate', 1 - alpha_bar, persistent=False)
        # divides refined logits; fitted on labeled batches when calibrate
        self.register_buffer('temperature', torch.ones(()))

        in_channels = sum(self.in_channels) if isinstance(
            self.in_channels, (list, tuple)) else self.in_channels
        self._conv = dict(
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        self.feature_proj = ConvModule(in_channels, self.channels, 1,
                                       **self._conv)
        self.decoder_proj = None  # built by attach_decoder
        self.mask_embed = ConvModule(
            self.num_classes, self.channels, 3, padding=1, **self._conv)
        self.time_mlp = nn.Sequential(
            nn.Linear(self.channels, self.channels), nn.SiLU(),
            nn.Linear(self.channels, 2 * self.channels))
        # 1x1 fusion keeps each repeated step cheap; spatial context comes
        # from the mask embedding and the body's 3x3 convolution
        self.fuse = ConvModule(2 * self.channels, self.channels, 1,
                               **self._conv)
        self.body = ConvModule(
            self.channels, self.channels, 3, padding=1, **self._conv)

    # ------------------------------------------------------------------
    # conditioning
    def attach_decoder(self, head: nn.Module) -> None:
        """Read ``head``'s features before its classifier (the input of its
        dropout, else of its ``conv_seg``) as extra condition; called by
        ``RefineCascadeEncoderDecoder`` with the previous head. No-op unless
        ``condition_on_decoder``; a second call changes nothing."""
        if not self.condition_on_decoder or self.decoder_proj is not None:
            return
        tap = getattr(head, 'dropout', None)
        if tap is None:
            tap = head.conv_seg
        tap.register_forward_pre_hook(_store_input)
        # a plain attribute, not a submodule: the previous head stays the
        # cascade's (one copy in state_dict; deepcopy maps it along)
        self.__dict__['_decoder_tap'] = tap
        self.decoder_proj = ConvModule(head.channels, self.channels, 1,
                                       **self._conv)

    def _decoder_features(self, batch: int) -> Tensor:
        """The previous head's last features (B, C_d, h_d, w_d), detached."""
        tap = self.__dict__.get('_decoder_tap')
        if tap is None:
            raise ConfigError(
                'EdgeAwareMixDiffusionHead(condition_on_decoder=True) reads '
                "the previous head's features: build the cascade as "
                "model.segmentor.type='RefineCascadeEncoderDecoder' (or "
                "'VLCascadeEncoderDecoder'), not 'CascadeEncoderDecoder', or "
                'set condition_on_decoder=False')
        feats = getattr(tap, _TAPPED, None)
        if feats is None or feats.shape[0] != batch:
            raise RuntimeError('EdgeAwareMixDiffusionHead: the previous '
                               'head did not run on this batch before it')
        return feats.detach()

    def _features(self, inputs: List[Tensor]) -> Tensor:
        """Clean unit-RMS condition (B, C, h, w) from the backbone level(s)
        and, with ``condition_on_decoder``, the previous head's features."""
        x = self.feature_proj(self._transform_inputs(inputs))
        if self.condition_on_decoder:
            dec = self.decoder_proj(self._decoder_features(x.shape[0]))
            x = x + resize(
                dec,
                size=x.shape[2:],
                mode='bilinear',
                align_corners=self.align_corners)
        return unit_rms(x)

    # ------------------------------------------------------------------
    def denoise(self, feats: Tensor, mask: Tensor, t: Tensor) -> Tensor:
        """Predict clean-mask logits.

        Args:
            feats (Tensor): (B, C, h, w) condition features (noisy in
                training).
            mask (Tensor): (B, K, h, w) soft noisy mask (a distribution per
                pixel).
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

    def _inference_steps(self, start: int) -> List[int]:
        """Steps visited at inference, from ``start`` down to 0."""
        k = self.num_inference_steps
        if k == 0:
            return [start]
        return [round(start * (k - i) / k) for i in range(k + 1)]

    def _denoise_from(self, feats: Tensor, probs: Tensor, start: int,
                      q: Optional[Tensor]) -> Tensor:
        """K steps from the soft mask ``probs`` (B, K, h, w) at ``start``;
        returns the last clean-mask logits (not yet temperature-scaled)."""
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

    def start_mask(self, first_probs: Tensor) -> Tensor:
        """The soft mask (B, K, h, w) refinement starts from: the expected
        noisy mask at ``start_step`` given the previous head's softmax
        ``first_probs`` (the previous softmax itself for 'prediction')."""
        b = first_probs.shape[0]
        q = first_probs if self.flip_source == 'prediction' else None
        return reverse_step(
            first_probs,
            first_probs.new_full((b, ), self.start_step, dtype=torch.long),
            self.flip_rate, q)

    def generate(self, feats: Tensor) -> Tensor:
        """Stand-alone inference: (B, C, h, w) condition features ->
        (B, K, h, w) raw logits, denoised from the uniform mask at T."""
        if self.num_inference_steps == 0:
            raise ConfigError('EdgeAwareMixDiffusionHead alone (no previous '
                              'head) needs num_inference_steps >= 1')
        b, _, h, w = feats.shape
        uniform = feats.new_full((b, self.num_classes, h, w),
                                 1.0 / self.num_classes)
        return self._denoise_from(feats, uniform, self.num_timesteps, None)

    def refine(self, first_logits: Tensor, feats: Tensor) -> Tensor:
        """K denoising steps from a first prediction.

        Args:
            first_logits (Tensor): (B, K, H', W') the first prediction.
            feats (Tensor): (B, C, h, w) condition features.

        Returns:
            Tensor: (B, K, h, w) raw refined logits (the first prediction,
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
        return self._denoise_from(feats, self.start_mask(probs),
                                  self.start_step, q)

    def forward(self,
                inputs: List[Tensor],
                prev_output: Optional[Tensor] = None) -> Tensor:
        """Refined logits (B, K, h, w) divided by ``temperature``, from
        features and the previous head's logits (with K = 0 exactly
        ``prev_output``); without a previous head, logits generated from the
        features alone."""
        if prev_output is None:
            return self.generate(self._features(inputs)) / self.temperature
        if self.num_inference_steps == 0:
            return prev_output
        return self.refine(prev_output,
                           self._features(inputs)) / self.temperature

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

    def training_inputs(self, feats: Tensor, labels: Tensor,
                        prev_output: Optional[Tensor],
                        t: Tensor) -> tuple:
        """What the network reads in training at steps ``t`` (B,).

        Args:
            feats (Tensor): (B, C, h, w) clean condition (:meth:`_features`).
            labels (Tensor): (B, h, w) long labels at the feature size.
            prev_output (Tensor, optional): (B, K, H', W') previous logits.
            t (Tensor): (B,) long steps.

        Returns:
            tuple[Tensor]: noisy features (B, C, h, w) and the soft noisy
            mask (B, K, h, w).
        """
        q = None
        if self.flip_source == 'prediction' and prev_output is not None:
            q = resize(
                prev_output.detach(),
                size=feats.shape[2:],
                mode='bilinear',
                align_corners=self.align_corners).softmax(dim=1)
        mask = mix_mask(labels, t, self.flip_rate, self.num_classes,
                        self.edge_gain, self.edge_width, q, self.ignore_index)
        noisy_feats = perturb_features_vp(feats, t, self.alpha_bar,
                                          self.feature_noise_scale)
        return noisy_feats, mask

    def loss(self, inputs: List[Tensor], *args) -> dict:
        """``loss(inputs, [prev_output,] batch_data_samples, train_cfg)``:
        denoising loss on the labels of ``batch_data_samples``; then, with
        ``calibrate``, one temperature update (see the class docstring)."""
        prev_output, batch_data_samples, _ = self._split_args(args, 2)
        feats = self._features(inputs)  # (B, C, h, w)
        labels = self._stack_batch_gt(batch_data_samples)  # (B, 1, H, W)
        labels = F.interpolate(
            labels.float(), size=feats.shape[2:],
            mode='nearest').long()[:, 0]  # (B, h, w)
        b = labels.shape[0]
        t = torch.randint(
            1, self.num_timesteps + 1, (b, ), device=labels.device)
        noisy_feats, mask = self.training_inputs(feats, labels, prev_output,
                                                 t)
        logits = self.denoise(noisy_feats, mask, t)
        losses = self.loss_by_feat(logits, batch_data_samples)
        if self.calibrate and self.training and self.num_inference_steps:
            self._update_temperature(inputs, prev_output, labels)
        return losses

    @torch.no_grad()
    def _update_temperature(self, inputs: List[Tensor],
                            prev_output: Optional[Tensor],
                            labels: Tensor) -> None:
        """Refine the labeled batch as at inference (eval mode) and move
        ``temperature`` towards the NLL-optimal one for ``labels``
        (B, h, w)."""
        self.eval()
        try:
            feats = self._features(inputs)  # eval-mode BN, as at inference
            logits = self.generate(feats) if prev_output is None else \
                self.refine(prev_output, feats)
        finally:
            self.train()
        fitted = fit_temperature(logits, labels, self.ignore_index)
        if fitted is not None:
            m = self.calibration_momentum
            self.temperature.mul_(m).add_((1 - m) * fitted)
