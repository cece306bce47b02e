"""Building blocks of :class:`VLGuidedHead`: per-class spatial reasoning,
class attention at pooled locations, upsampling with image-level skips.

Every block works on a batch of per-class maps (B*K, C, H, W), ordered
image-major (all K classes of image 0, then of image 1, ...), and treats
each class the same way, so permuting the classes permutes the output.
Norms are GroupNorm (per sample, hence per class), as in SemiVL
(Hoyer et al., ECCV 2024); layouts and widths are this project's own.
"""
import math
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


def group_norm(channels: int, group_channels: int = 16) -> nn.GroupNorm:
    """GroupNorm with about ``group_channels`` channels per group (SemiVL:
    C / 16 groups); at least one group, and a divisor of ``channels``."""
    groups = max(1, channels // group_channels)
    while channels % groups:
        groups -= 1
    return nn.GroupNorm(groups, channels)


def conv_gn_relu(in_channels: int,
                 out_channels: int,
                 kernel_size: int = 3,
                 dilation: int = 1,
                 group_channels: int = 16) -> nn.Sequential:
    """Conv (no bias, 'same' padding) -> GroupNorm -> ReLU."""
    return nn.Sequential(
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            padding=dilation * (kernel_size - 1) // 2,
            dilation=dilation,
            bias=False), group_norm(out_channels, group_channels),
        nn.ReLU(inplace=True))


class ConvReasoning(nn.Module):
    """``num_convs`` 3x3 conv-GN-ReLU layers with a residual: the slim
    stand-in for SemiVL's ASPP.

    Args:
        channels (int): C.
        num_convs (int): depth.
        group_channels (int): channels per GroupNorm group.
    """

    def __init__(self,
                 channels: int,
                 num_convs: int = 1,
                 group_channels: int = 16) -> None:
        super().__init__()
        self.convs = nn.Sequential(*[
            conv_gn_relu(channels, channels, 3, group_channels=group_channels)
            for _ in range(num_convs)
        ])

    def forward(self, x: Tensor) -> Tensor:
        """x (N, C, H, W) -> (N, C, H, W)."""
        return x + self.convs(x)


class GNASPP(nn.Module):
    """ASPP with GroupNorm and a residual: a 1x1 branch, one 3x3 branch per
    dilation, an image-pool branch, concatenated, projected back to C.

    Args:
        channels (int): C (input, branch and output width).
        dilations (Sequence[int]): dilations of the 3x3 branches.
        group_channels (int): channels per GroupNorm group.
    """

    def __init__(self,
                 channels: int,
                 dilations: Sequence[int] = (6, 12, 18),
                 group_channels: int = 16) -> None:
        super().__init__()
        gc = group_channels
        self.branches = nn.ModuleList(
            [conv_gn_relu(channels, channels, 1, group_channels=gc)] + [
                conv_gn_relu(channels, channels, 3, d, group_channels=gc)
                for d in dilations
            ])
        self.image_pool = conv_gn_relu(
            channels, channels, 1, group_channels=gc)
        self.project = conv_gn_relu(
            (len(dilations) + 2) * channels, channels, 1, group_channels=gc)

    def forward(self, x: Tensor) -> Tensor:
        """x (N, C, H, W) -> (N, C, H, W)."""
        outs = [branch(x) for branch in self.branches]
        pooled = self.image_pool(F.adaptive_avg_pool2d(x, 1))  # (N, C, 1, 1)
        outs.append(pooled.expand_as(x))
        return x + self.project(torch.cat(outs, dim=1))


class ClassAttention(nn.Module):
    """Classes exchange information at pooled locations (SemiVL's semantic
    transformer, the head's only cross-class interaction).

    The per-class maps are average-pooled by ``pool_size``; at every pooled
    location the K classes form a sequence of tokens [visual C | text T]
    (no positional encoding, so the block is permutation-equivariant in the
    classes), a pre-LN transformer encoder layer runs over it, the visual
    part is upsampled bilinearly and added to the input.

    Args:
        channels (int): C of the per-class maps.
        text_channels (int): T of the projected class text.
        num_heads (int): attention heads; must divide C + T.
        ffn_channels (int): hidden width of the feed-forward network.
        pool_size (int): pooling window (1: no pooling).
    """

    def __init__(self, channels: int, text_channels: int, num_heads: int,
                 ffn_channels: int, pool_size: int) -> None:
        super().__init__()
        self.channels = channels
        self.pool_size = pool_size
        self.layer = nn.TransformerEncoderLayer(
            channels + text_channels,
            num_heads,
            dim_feedforward=ffn_channels,
            dropout=0.0,
            activation='gelu',
            batch_first=True,
            norm_first=True)

    def forward(self, x: Tensor, text: Tensor) -> Tensor:
        """x (B, K, C, H, W), text (K, T) -> (B, K, C, H, W)."""
        b, k, c, h, w = x.shape
        hp, wp = math.ceil(h / self.pool_size), math.ceil(w / self.pool_size)
        pooled = F.adaptive_avg_pool2d(x.flatten(0, 1),
                                       (hp, wp))  # (B*K, C, hp, wp)
        tokens = pooled.view(b, k, c, hp * wp).permute(0, 3, 1, 2)
        tokens = tokens.reshape(b * hp * wp, k, c)  # (B*hp*wp, K, C)
        text = text.to(tokens.dtype).expand(b * hp * wp, -1, -1)
        tokens = self.layer(torch.cat([tokens, text], dim=-1))
        update = tokens[..., :c].reshape(b, hp * wp, k, c).permute(
            0, 2, 3, 1).reshape(b * k, c, hp, wp)  # (B*K, C, hp, wp)
        update = F.interpolate(
            update, size=(h, w), mode='bilinear', align_corners=False)
        return x + update.view(b, k, c, h, w)


class SkipUp(nn.Module):
    """Upsample per-class maps to a skip level and fuse the image's skip
    features: two 3x3 conv-GN-ReLU layers on [x | skip].

    SemiVL upsamples by a 2x2 transposed conv because its skips are always
    twice the resolution; here x is resized (bilinear) to the skip's size,
    which also serves skips at the same stride (dilated ResNets). The first
    conv on the concatenation is split into a conv on x (per class) plus a
    conv on the skip (once per image, broadcast to the classes): the same
    function as one conv on the concatenation, at a fraction of the cost.

    Args:
        in_channels (int): C_in of the per-class maps.
        skip_channels (int): S of the (projected) skip.
        out_channels (int): C_out.
        group_channels (int): channels per GroupNorm group.
    """

    def __init__(self,
                 in_channels: int,
                 skip_channels: int,
                 out_channels: int,
                 group_channels: int = 16) -> None:
        super().__init__()
        self.conv_x = nn.Conv2d(
            in_channels, out_channels, 3, padding=1, bias=False)
        self.conv_skip = nn.Conv2d(
            skip_channels, out_channels, 3, padding=1, bias=False)
        self.act = nn.Sequential(
            group_norm(out_channels, group_channels), nn.ReLU(inplace=True))
        self.conv = conv_gn_relu(
            out_channels, out_channels, 3, group_channels=group_channels)

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        """x (B*K, C_in, h, w), skip (B, S, H, W) -> (B*K, C_out, H, W)."""
        b = skip.shape[0]
        size = skip.shape[2:]
        x = F.interpolate(x, size=size, mode='bilinear', align_corners=False)
        y = self.conv_x(x)  # (B*K, C_out, H, W)
        y = y.view(b, -1, *y.shape[1:]) + self.conv_skip(skip)[:, None]
        return self.conv(self.act(y.flatten(0, 1)))
