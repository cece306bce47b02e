"""VLGuidedHead: decode per-class image-text similarity maps (SemiVL)."""
import math
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from torch import Tensor

from ...utils.errors import ConfigError
from .class_text import build_class_promptor, concept_index, max_over_concepts
from .multi_level import multi_level_args
from .vl_guided_blocks import GNASPP, ClassAttention, ConvReasoning, SkipUp

#: per-class spatial reasoning: SemiVL's GroupNorm ASPP or a conv stack
SPATIAL_MODES = ('aspp', 'conv')


@MODELS.register_module()
class VLGuidedHead(BaseDecodeHead):
    """Language-guided decoder: one similarity map per class, reasoned
    over in space and across classes, upsampled with skips.

    After SemiVL's decoder (Hoyer et al., ECCV 2024; design read from its
    paper and public code, implementation this project's own):

    1. similarity: the deepest selected level is projected (1x1 conv) into
       the text space and L2-normalised; its cosine with every class
       embedding of a frozen ``CaptionPromptor``, times a learnable logit
       scale, gives S (B, K, h, w). SemiVL reads CLIP-aligned ViT features
       and needs neither the projection nor the scale; a CNN backbone and a
       generic sentence encoder are not aligned, so both are learned here.
       With ``concept_pooling='max'`` S holds, per class, the largest
       similarity among its concept phrases;
    2. spatial reasoning, per class: a k x k conv 1 -> C, then GroupNorm
       ASPP (SemiVL) or a small conv stack, with a residual;
    3. class attention, ``num_attn_layers`` blocks: at avg-pooled
       locations the K classes exchange information through a transformer
       layer over tokens [visual | projected text], no positional encoding
       (:class:`ClassAttention`);
    4. upsampling, per class, with skips from shallower backbone levels,
       each projected once per image (3x3 conv + ReLU);
    5. a 3x3 conv to one logit map per class: (B, K, H, W) at the
       resolution of the shallowest skip.

    The output is ordinary per-class logits, so MMSeg's losses, inference
    and the mean teacher's confidence thresholds apply unchanged. Every
    step treats the classes alike, so permuting the class embeddings
    permutes the logits. Cost is linear in K: steps 2-5 run per class.

    Args:
        promptor (dict): ``CaptionPromptor`` config (the class text; its
            vocabulary must have ``num_classes`` classes). Its frozen
            encoder runs once, at build time; the embeddings are buffers.
        in_channels (Sequence[int]): channels of the levels in
            ``in_index``.
        in_index (Sequence[int]): backbone levels; the last is the
            similarity level, the others are skips, used from the last
            but one to the first (give them shallow to deep, e.g.
            ``(0, 1, 3)``: similarity on level 3, skips 1 then 0).
        channels (int): C, width of the per-class maps (SemiVL: 128).
        embed_dims (int, optional): width of the pixel projection before
            the cosine; must equal the text dim D (default).
        text_channels (int): T, width of the projected class text in the
            class-attention tokens (SemiVL: 128).
        sim_kernel (int): kernel of the first per-class conv (SemiVL: 7).
        spatial (str): 'aspp' (SemiVL) or 'conv'.
        aspp_dilations (Sequence[int]): dilations of the ASPP's 3x3
            branches (SemiVL: 6, 12, 18 on a 32x32 map).
        num_spatial_convs (int): depth of the 'conv' stack.
        num_attn_layers (int): class-attention blocks (SemiVL: 2).
        num_heads (int): attention heads; must divide C + T (SemiVL: 4).
        ffn_channels (int, optional): feed-forward width; defaults to 4C
            (SemiVL: 512).
        pool_size (int): pooling window of the class attention (SemiVL: 4).
        skip_channels (Sequence[int]): projected width of each skip, in the
            order they are used (SemiVL: 32, 16).
        up_channels (Sequence[int]): output width of each up block
            (SemiVL: 64, 32).
        group_channels (int): channels per GroupNorm group (SemiVL: 16).
        concept_pooling (str): 'mean' (the promptor's class embeddings) or
            'max' (max over concept phrases; needs
            ``promptor.class_text='concepts'``).
        temperature (float): initial 1 / logit scale of the cosine.
        **kwargs: ``BaseDecodeHead`` arguments (``num_classes``,
            ``loss_decode``, ``align_corners``, ...); ``input_transform`` is
            always 'multiple_select', and the head has no ``conv_seg``.
    """

    def __init__(self,
                 promptor: dict,
                 in_channels: Sequence[int],
                 in_index: Sequence[int],
                 channels: int = 128,
                 embed_dims: Optional[int] = None,
                 text_channels: int = 128,
                 sim_kernel: int = 7,
                 spatial: str = 'aspp',
                 aspp_dilations: Sequence[int] = (6, 12, 18),
                 num_spatial_convs: int = 1,
                 num_attn_layers: int = 2,
                 num_heads: int = 4,
                 ffn_channels: Optional[int] = None,
                 pool_size: int = 4,
                 skip_channels: Sequence[int] = (32, 16),
                 up_channels: Sequence[int] = (64, 32),
                 group_channels: int = 16,
                 concept_pooling: str = 'mean',
                 temperature: float = 0.07,
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        name = type(self).__name__
        super().__init__(
            channels=channels,
            init_cfg=init_cfg,
            **multi_level_args(name, in_channels, in_index, 'similarity level last',
                               kwargs))
        del self.conv_seg  # one logit map per class comes from self.cls
        num_skips = len(self.in_index) - 1
        for key, value in (('skip_channels', skip_channels), ('up_channels',
                                                              up_channels)):
            if len(value) != num_skips:
                raise ConfigError(
                    f'{name}.{key} needs one entry per skip level '
                    f'({num_skips}: in_index {list(in_index)} minus the '
                    f'similarity level), got {list(value)}')
        if spatial not in SPATIAL_MODES:
            raise ConfigError(f'{name}.spatial must be one of '
                              f'{SPATIAL_MODES}, got {spatial!r}')
        if (channels + text_channels) % num_heads:
            raise ConfigError(
                f'{name}.num_heads ({num_heads}) must divide channels + '
                f'text_channels ({channels} + {text_channels})')
        if sim_kernel % 2 == 0:
            raise ConfigError(f'{name}.sim_kernel must be odd, got '
                              f'{sim_kernel}')
        self.promptor = build_class_promptor(promptor, self.num_classes, name,
                                             concept_pooling)
        self.concept_pooling = concept_pooling
        text_dim = self.promptor.embed_dim
        if embed_dims not in (None, text_dim):
            raise ConfigError(
                f'{name}.embed_dims ({embed_dims}) must equal the text dim '
                f'of its promptor ({text_dim}); leave it unset')
        gc = group_channels
        self.pixel_proj = nn.Conv2d(self.in_channels[-1], text_dim, 1)
        self.logit_scale = nn.Parameter(
            torch.tensor(math.log(1 / temperature)))
        self.sim_embed = nn.Conv2d(
            1, channels, sim_kernel, padding=sim_kernel // 2)
        self.spatial = (
            GNASPP(channels, aspp_dilations, gc) if spatial == 'aspp' else
            ConvReasoning(channels, num_spatial_convs, gc))
        self.text_proj = nn.Sequential(
            nn.Linear(text_dim, text_channels), nn.ReLU(inplace=True))
        self.class_attn = nn.ModuleList([
            ClassAttention(channels, text_channels, num_heads, ffn_channels
                           or 4 * channels, pool_size)
            for _ in range(num_attn_layers)
        ])
        skip_in = self.in_channels[:-1][::-1]
        self.skip_proj = nn.ModuleList([
            nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True))
            for cin, cout in zip(skip_in, skip_channels)
        ])
        widths = [channels, *up_channels]
        self.ups = nn.ModuleList([
            SkipUp(widths[i], skip_channels[i], widths[i + 1], gc)
            for i in range(num_skips)
        ])
        self.cls = nn.Conv2d(widths[-1], 1, 3, padding=1)

    def similarity(self, x: Tensor, text: Dict[str, Tensor]) -> Tensor:
        """Scaled cosine of projected pixels and class text.

        Args:
            x (Tensor): (B, C_x, h, w) the similarity level.
            text (dict[str, Tensor]): ``class_embeddings`` (K, D); for
                'max' pooling also ``concept_embeddings`` (P, D) and
                ``concept_class`` (P,).

        Returns:
            Tensor: (B, K, h, w).
        """
        pixels = F.normalize(self.pixel_proj(x), dim=1)  # (B, D, h, w)
        if self.concept_pooling == 'max':
            emb = text['concept_embeddings']
        else:
            emb = text['class_embeddings']
        emb = F.normalize(emb.to(pixels.dtype), dim=-1)  # (K|P, D)
        scale = self.logit_scale.exp().clamp(max=100)
        sim = scale * torch.einsum('bdhw,pd->bphw', pixels, emb)
        if self.concept_pooling == 'max':
            index = concept_index(text['concept_class'],
                                  text['class_embeddings'].shape[0])
            sim = max_over_concepts(sim, index)  # (B, K, h, w)
        return sim

    def forward(self,
                inputs: List[Tensor],
                text: Optional[Dict[str, Tensor]] = None) -> Tensor:
        """Per-class logits.

        Args:
            inputs (list[Tensor]): backbone levels (B, C_i, H_i, W_i).
            text (dict[str, Tensor], optional): class text as the
                promptor gives it (``class_embeddings`` (K, D), ...);
                defaults to the promptor's own.

        Returns:
            Tensor: (B, K, H, W) logits, H x W the shallowest skip's size
            (the similarity level's without skips).
        """
        text = self.promptor() if text is None else text
        feats = self._transform_inputs(inputs)
        x, skips = feats[-1], feats[:-1][::-1]
        sim = self.similarity(x, text)  # (B, K, h, w)
        b, k, h, w = sim.shape
        y = self.spatial(self.sim_embed(sim.reshape(b * k, 1, h, w)))
        class_text = self.text_proj(text['class_embeddings'].to(y.dtype))
        y = y.view(b, k, -1, h, w)  # (B, K, C, h, w)
        for block in self.class_attn:
            y = block(y, class_text)
        y = y.flatten(0, 1)  # (B*K, C, h, w)
        for proj, up, skip in zip(self.skip_proj, self.ups, skips):
            y = up(y, proj(skip))  # (B*K, C_up, H_s, W_s)
        logits = self.cls(y)  # (B*K, 1, H, W)
        return logits.view(b, k, *logits.shape[2:])
