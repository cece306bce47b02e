"""MaskCLIP dense image embeddings from a frozen ``open_clip`` ViT.

CLIP's image embedding is the class token after attention pooling over
all patches; its patch tokens are not aligned with text. MaskCLIP (Zhou
et al., "Extract Free Dense Labels from CLIP", ECCV 2022) gets per-patch
embeddings in the joint image-text space from the last transformer block:
skip its query-key attention and keep only the value path,
``out_proj(W_v LN_1(x) + b_v)`` (no residual, no MLP), then CLIP's final
``ln_post`` and projection ``proj``. SemiVL (Hoyer et al., ECCV 2024) uses
these embeddings against class text as dense guidance.
"""
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from ...utils.errors import ConfigError


def check_maskclip_visual(visual: nn.Module, owner: str) -> None:
    """Raise a :class:`ConfigError` naming ``owner`` unless ``visual`` is an
    open_clip ``VisionTransformer`` whose last block is a standard
    ``ResidualAttentionBlock`` (``nn.MultiheadAttention``) with a class
    token and a projection (OpenAI and LAION CLIP ViTs are)."""
    blocks = getattr(getattr(visual, 'transformer', None), 'resblocks', None)
    attn = getattr(blocks[-1], 'attn', None) if blocks else None
    if (not isinstance(attn, nn.MultiheadAttention)
            or not hasattr(visual, 'conv1')
            or getattr(visual, 'attn_pool', None) is not None
            or getattr(visual, 'proj', None) is None):
        raise ConfigError(
            f'{owner}: MaskCLIP needs an open_clip VisionTransformer image '
            'tower (conv1 patches, a class token, nn.MultiheadAttention '
            f'blocks, a projection), got {type(visual).__name__}')


def _positional_embedding(visual: nn.Module, grid: Tuple[int, int]) -> Tensor:
    """(1 + h * w, C) positional embedding for a patch grid (h, w): the
    class position as is, the patch positions resized bicubically from the
    tower's own grid when it differs."""
    pos = visual.positional_embedding  # (1 + g0 * g1, C)
    g0, g1 = visual.grid_size
    if tuple(grid) == (g0, g1):
        return pos
    cls_pos, patch_pos = pos[:1], pos[1:]
    patch_pos = patch_pos.reshape(1, g0, g1, -1).permute(0, 3, 1, 2)
    patch_pos = F.interpolate(
        patch_pos, size=grid, mode='bicubic',
        align_corners=False)  # (1, C, h, w)
    patch_pos = patch_pos.flatten(2)[0].t()  # (h * w, C)
    return torch.cat([cls_pos, patch_pos])


def maskclip_embeddings(visual: nn.Module, images: Tensor) -> Tensor:
    """Dense, L2-normalised CLIP image embeddings on the patch grid.

    All blocks but the last run as in CLIP (with the class token); the
    last block keeps only its value path (see the module docstring).

    Args:
        visual (nn.Module): an open_clip ``VisionTransformer`` (see
            :func:`check_maskclip_visual`).
        images (Tensor): (B, 3, H, W) normalised the way the CLIP was
            trained (its own mean and std); H and W multiples of the patch
            size (a remainder is dropped by the patch convolution).

    Returns:
        Tensor: (B, D, h, w) with h = H // patch, w = W // patch and D the
        joint image-text dimension (``proj``'s output).
    """
    x = visual.conv1(images)  # (B, C, h, w)
    b, c, h, w = x.shape
    x = x.flatten(2).transpose(1, 2)  # (B, h * w, C)
    cls = visual.class_embedding.to(x.dtype).view(1, 1, c).expand(b, 1, c)
    x = torch.cat([cls, x], dim=1)  # (B, 1 + h * w, C)
    x = x + _positional_embedding(visual, (h, w)).to(x.dtype)
    x = visual.ln_pre(x)
    blocks = visual.transformer.resblocks
    batch_first = getattr(visual.transformer, 'batch_first', True)
    if not batch_first:
        x = x.transpose(0, 1)  # (1 + h * w, B, C)
    for block in blocks[:-1]:
        x = block(x)
    if not batch_first:
        x = x.transpose(0, 1)  # (B, 1 + h * w, C)
    last = blocks[-1]
    attn = last.attn
    w_v = attn.in_proj_weight[2 * c:]  # (C, C): rows of q, k, v stacked
    b_v = attn.in_proj_bias[2 * c:] if attn.in_proj_bias is not None \
        else None
    v = F.linear(last.ln_1(x[:, 1:]), w_v, b_v)  # (B, h * w, C)
    v = last.ls_1(attn.out_proj(v))  # (B, h * w, C)
    v = visual.ln_post(v) @ visual.proj  # (B, h * w, D)
    v = F.normalize(v, dim=-1)
    return v.transpose(1, 2).reshape(b, -1, h, w)  # (B, D, h, w)
