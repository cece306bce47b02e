"""Building blocks of :class:`SemanticQueryHead`: a light FPN pixel
decoder, query decoder layers (query -> pixel cross-attention, query
self-attention, FFN) and pixel -> query attention.

Mask2Former-style (Cheng et al., CVPR 2022) but mmdet-free and without
deformable attention or masked attention; widths are arguments.
"""
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .vl_guided_blocks import conv_gn_relu, group_norm


def mlp(in_dims: int,
        hidden_dims: int,
        out_dims: int,
        num_layers: int = 2) -> nn.Sequential:
    """``num_layers`` linear layers with ReLU between them."""
    dims = [in_dims] + [hidden_dims] * (num_layers - 1) + [out_dims]
    layers = []
    for i in range(num_layers):
        layers.append(nn.Linear(dims[i], dims[i + 1]))
        if i < num_layers - 1:
            layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class PixelFPN(nn.Module):
    """Top-down feature pyramid to a common width E, and the mask features.

    The deepest level first runs ``num_encoder_convs`` residual 3x3
    conv-GN-ReLU layers: the pixel encoder, a convolutional stand-in for
    Mask2Former's deformable-attention encoder (cheap on the coarse map).

    Args:
        in_channels (Sequence[int]): channels of the levels, shallow first.
        embed_dims (int): E.
        num_encoder_convs (int): depth of the pixel encoder.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 embed_dims: int,
                 num_encoder_convs: int = 0) -> None:
        super().__init__()
        self.laterals = nn.ModuleList([
            nn.Sequential(
                nn.Conv2d(c, embed_dims, 1, bias=False),
                group_norm(embed_dims)) for c in in_channels
        ])
        self.encoder = nn.ModuleList([
            conv_gn_relu(embed_dims, embed_dims, 3)
            for _ in range(num_encoder_convs)
        ])
        # FPN's 3x3 output convs, on every level but the finest
        self.outputs = nn.ModuleList([
            conv_gn_relu(embed_dims, embed_dims, 3)
            for _ in range(len(in_channels) - 1)
        ])
        # depthwise-separable 3x3 on the finest level (cheap at stride 4),
        # then a plain 1x1 conv as Mask2Former's mask features: no final
        # ReLU, so the features are not confined to the positive orthant
        # (a cosine with them would hardly vary over the pixels)
        self.mask_conv = nn.Sequential(
            nn.Conv2d(embed_dims, embed_dims, 3, padding=1, groups=embed_dims),
            nn.Conv2d(embed_dims, embed_dims, 1, bias=False),
            group_norm(embed_dims), nn.ReLU(inplace=True),
            nn.Conv2d(embed_dims, embed_dims, 1))

    def forward(self, feats: Sequence[Tensor]) -> Tuple[List[Tensor], Tensor]:
        """feats (B, C_i, H_i, W_i), shallow first -> the memory levels
        (B, E, H_i, W_i) from the deepest to the second finest, and the
        mask features (B, E, H_0, W_0)."""
        outs = [lat(f) for lat, f in zip(self.laterals, feats)]
        for conv in self.encoder:
            outs[-1] = outs[-1] + conv(outs[-1])
        for i in range(len(outs) - 1, -1, -1):  # top-down
            if i < len(outs) - 1:
                outs[i] = outs[i] + F.interpolate(
                    outs[i + 1],
                    size=outs[i].shape[2:],
                    mode='bilinear',
                    align_corners=False)
            if i > 0:
                outs[i] = self.outputs[i - 1](outs[i])
        memory = outs[1:][::-1] if len(outs) > 1 else outs[:1]
        return memory, self.mask_conv(outs[0])


class QueryDecoderLayer(nn.Module):
    """Queries read one memory level (cross-modal spatial alignment,
    query -> pixel), then exchange information (semantic and instance
    queries together), then an FFN; pre-LN residual blocks.

    Args:
        embed_dims (int): E.
        num_heads (int): attention heads (divide E).
        ffn_channels (int): FFN hidden width.
    """

    def __init__(self, embed_dims: int, num_heads: int,
                 ffn_channels: int) -> None:
        super().__init__()
        self.norm_cross = nn.LayerNorm(embed_dims)
        self.cross = nn.MultiheadAttention(
            embed_dims, num_heads, batch_first=True)
        self.norm_self = nn.LayerNorm(embed_dims)
        self.self_attn = nn.MultiheadAttention(
            embed_dims, num_heads, batch_first=True)
        self.norm_ffn = nn.LayerNorm(embed_dims)
        self.ffn = mlp(embed_dims, ffn_channels, embed_dims)

    def forward(self, q: Tensor, pos: Tensor, memory: Tensor,
                memory_pos: Tensor) -> Tensor:
        """q, pos (B, N, E); memory (B, HW, E), memory_pos (1 or B, HW, E)
        -> q (B, N, E)."""
        x = self.norm_cross(q)
        q = q + self.cross(
            x + pos, memory + memory_pos, memory, need_weights=False)[0]
        x = self.norm_self(q)
        q = q + self.self_attn(x + pos, x + pos, x, need_weights=False)[0]
        return q + self.ffn(self.norm_ffn(q))


class PixelQueryAttention(nn.Module):
    """Pixels read the decoded queries (the pixel -> query direction of
    the cross-modal alignment), gated residual starting at 0.

    Args:
        embed_dims (int): E.
        num_heads (int): attention heads.
    """

    def __init__(self, embed_dims: int, num_heads: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(embed_dims)
        self.attn = nn.MultiheadAttention(
            embed_dims, num_heads, batch_first=True)
        self.gate = nn.Parameter(torch.zeros(1))

    def forward(self, pixels: Tensor, queries: Tensor) -> Tensor:
        """pixels (B, E, H, W), queries (B, N, E) -> (B, E, H, W)."""
        b, e, h, w = pixels.shape
        x = self.norm(pixels.flatten(2).transpose(1, 2))  # (B, HW, E)
        update = self.attn(x, queries, queries, need_weights=False)[0]
        update = update.transpose(1, 2).reshape(b, e, h, w)
        return pixels + torch.tanh(self.gate) * update
