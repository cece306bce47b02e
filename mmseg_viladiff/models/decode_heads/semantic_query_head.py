"""SemanticQueryHead: class text as queries of a mask-transformer decoder
(this project's reading of HierVL)."""
import math
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from torch import Tensor

from ...utils.constants import IGNORE_INDEX
from ...utils.errors import ConfigError
from .class_text import build_class_promptor
from .multi_level import multi_level_args
from .semantic_query_blocks import (PixelFPN, PixelQueryAttention,
                                    QueryDecoderLayer, mlp)

#: lower bound of a log gate: a closed gate (logit -inf) gives its class
#: exp(-1e4) = 0 probability without NaNs, even if every gate is closed
LOG_GATE_MIN = -1e4


@MODELS.register_module()
class SemanticQueryHead(BaseDecodeHead):
    """Mask-transformer decoder whose queries are the class text, gated by
    image-level class relevance; emits ordinary per-class logits.

    HierVL (arXiv 2506.13925) publishes no code, equations or sizes; its
    abstracts name a Hierarchical Semantic Query Generator ("filters and
    projects class embeddings into multi-scale queries", suppressing
    irrelevant classes), a Cross-Modal Spatial Alignment module (semantic
    queries aligned with pixel features), a Dual-Query Transformer Decoder
    (semantic and instance queries fused, against instance collapse) and
    alignment-preserving regularisers. This head is this project's reading
    of those sentences (see docs/method.md):

    * text: the K class embeddings of a frozen ``CaptionPromptor``,
      centred over the classes (``center_text``), go through one learned
      ``text_proj`` (linear D -> E, LayerNorm), shared by every use below;
    * relevance gate (HSQG's filter): z_bk = s * cos(W_v GAP(F_deep)_b,
      t_k) + c, g = sigmoid(z); supervised by class presence in the labels
      (BCE, ``relevance_weight``) and added as log g to the logits, so a
      class whose gate is closed gets no probability mass;
    * hierarchical semantic queries (HSQG's projection): one query per
      class, content g * LN(MLP_0(t_k)), and per memory level l a query
      embedding g * LN(MLP_l(t_k)) added in the layers reading level l;
    * cross-modal spatial alignment: each decoder layer's queries attend to
      one pyramid level (query -> pixel, coarse to fine, cycling), and after
      the last layer the mask features attend to the queries (pixel ->
      query, gated residual);
    * dual queries: K semantic queries (fixed class assignment, no
      matching) beside M learned instance queries, fused by self-attention
      in every layer. Semantic path: logit_k = s_m cos(MLP_m(q_k), F) (a
      cosine with a learned scale, not Mask2Former's dot product, so the
      logits stay bounded under SGD); instance path: instance masks
      s_m cos(MLP_m(q_j), F) weighted by each instance's
      class probabilities p_jk = softmax_k(s' cos(W_c q_j, t_k) | no
      object); output = semantic + instance path + log g;
    * query-text alignment regulariser: InfoNCE between the decoded
      semantic queries (projected) and the class text, each query's own
      class the positive (``align_weight``).

    Training needs gradient clipping at SGD learning rates (the configs
    clip at norm 1, see ``configs/_base_/hiervl.py``). Every step treats
    the classes alike (no per-class parameter), so
    permuting the class embeddings permutes the logits; the output is
    plain logits (B, K, H, W), so MMSeg's losses, inference and the mean
    teacher's confidence thresholds apply unchanged.

    Args:
        promptor (dict): ``CaptionPromptor`` config (the class text).
        in_channels (Sequence[int]): channels of the levels in
            ``in_index``.
        in_index (Sequence[int]): backbone levels, shallow first; the
            finest gives the mask features, the others the memory levels.
        channels (int): E, the width of queries, pixels and text.
        num_layers (int): decoder layers (cycling over the memory levels,
            deepest first).
        num_heads (int): attention heads; must divide E.
        ffn_channels (int, optional): FFN width; defaults to 4E.
        num_instance_queries (int): M.
        num_encoder_convs (int): residual 3x3 convs on the deepest level
            before the top-down pyramid (the pixel encoder).
        relevance_weight (float): weight of the gate's BCE loss.
        align_weight (float): weight of the query-text alignment loss.
        align_temperature (float): temperature of that InfoNCE.
        gate_bias (float): initial gate logit offset c (2: gates start
            mostly open, sigmoid(2) = 0.88).
        temperature (float): initial 1 / scale of the mask logits and of
            the instance class logits (cosines).
        gate_temperature (float): initial 1 / scale of the gate's cosine
            (1: every gate starts near sigmoid(gate_bias), none closed).
        center_text (bool): subtract the mean class embedding before the
            projection (a generic sentence encoder's class embeddings share
            a large common direction, which makes the queries alike). With
            K = 1 the class embedding is kept as it is.
        **kwargs: ``BaseDecodeHead`` arguments (``num_classes``,
            ``loss_decode``, ``align_corners``, ...); ``input_transform`` is
            always 'multiple_select', and the head has no ``conv_seg``.
    """

    def __init__(self,
                 promptor: dict,
                 in_channels: Sequence[int],
                 in_index: Sequence[int],
                 channels: int = 256,
                 num_layers: int = 9,
                 num_heads: int = 8,
                 ffn_channels: Optional[int] = None,
                 num_instance_queries: int = 20,
                 num_encoder_convs: int = 0,
                 relevance_weight: float = 0.2,
                 align_weight: float = 0.1,
                 align_temperature: float = 0.1,
                 gate_bias: float = 2.0,
                 temperature: float = 0.07,
                 gate_temperature: float = 1.0,
                 center_text: bool = True,
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        name = type(self).__name__
        super().__init__(
            channels=channels,
            init_cfg=init_cfg,
            **multi_level_args(name, in_channels, in_index, 'shallow first',
                               kwargs))
        del self.conv_seg  # logits come from query-pixel products
        if channels % num_heads:
            raise ConfigError(f'{name}.num_heads ({num_heads}) must divide '
                              f'channels ({channels})')
        if num_layers < 1:
            raise ConfigError(f'{name}.num_layers must be >= 1, got '
                              f'{num_layers}')
        non_negative = dict(
            num_instance_queries=num_instance_queries,
            relevance_weight=relevance_weight,
            align_weight=align_weight)
        for key, value in non_negative.items():
            if value < 0:
                raise ConfigError(f'{name}.{key} must be >= 0, got {value}')
        self.promptor = build_class_promptor(promptor, self.num_classes, name)
        self.relevance_weight = relevance_weight
        self.align_weight = align_weight
        self.align_temperature = align_temperature
        e = channels
        ffn = ffn_channels or 4 * e
        self.pixel_decoder = PixelFPN(self.in_channels, e, num_encoder_convs)
        self.num_levels = max(1, len(self.in_channels) - 1)
        self.level_embed = nn.Parameter(torch.zeros(self.num_levels, e))
        # text: one shared projection into the decoder's space, ending in
        # a LayerNorm: unit-norm text embeddings through a fresh linear
        # layer are tiny per channel, and the query MLPs' biases would
        # swamp them, making every class's query alike
        self.center_text = center_text
        self.text_proj = nn.Sequential(
            nn.Linear(self.promptor.embed_dim, e), nn.LayerNorm(e))
        # hierarchical semantic queries: content + one embedding per level,
        # each ending in a LayerNorm, so that the class text, not the
        # (class-independent) attention updates, dominates the residual
        # stream; without them the K decoded queries of a fresh head came
        # out identical (cosine 1.0) and the semantic path was constant
        self.query_content = nn.Sequential(mlp(e, e, e), nn.LayerNorm(e))
        self.query_levels = nn.ModuleList([
            nn.Sequential(mlp(e, e, e), nn.LayerNorm(e))
            for _ in range(self.num_levels)
        ])
        # relevance gate
        self.gate_visual = nn.Linear(e, e)
        self.gate_scale = nn.Parameter(
            torch.tensor(math.log(1 / gate_temperature)))
        self.gate_bias = nn.Parameter(torch.tensor(float(gate_bias)))
        # instance queries and their text classifier
        self.num_instance_queries = num_instance_queries
        self.instance_content = nn.Parameter(
            torch.randn(num_instance_queries, e) * 0.02)
        self.instance_pos = nn.Parameter(
            torch.randn(num_instance_queries, e) * 0.02)
        self.instance_cls = nn.Linear(e, e)
        self.cls_scale = nn.Parameter(torch.tensor(math.log(1 / temperature)))
        self.no_object = nn.Parameter(torch.zeros(1))
        self.layers = nn.ModuleList(
            [QueryDecoderLayer(e, num_heads, ffn) for _ in range(num_layers)])
        self.query_norm = nn.LayerNorm(e)
        self.pixel_attn = PixelQueryAttention(e, num_heads)
        self.mask_embed = mlp(e, e, e, num_layers=3)
        self.mask_scale = nn.Parameter(torch.tensor(math.log(1 / temperature)))
        self.align_proj = nn.Linear(e, e)

    @staticmethod
    def _cosine(a: Tensor, b: Tensor) -> Tensor:
        """a (..., N, E), b (K, E) -> (..., N, K) cosine similarities."""
        return F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).t()

    def relevance_logits(self, deep: Tensor, text: Tensor) -> Tensor:
        """Gate logits z (B, K) of the deepest memory level (B, E, h, w)
        and the projected text (K, E)."""
        visual = self.gate_visual(deep.mean(dim=(2, 3)))  # (B, E)
        scale = self.gate_scale.exp().clamp(max=100)
        return scale * self._cosine(visual, text) + self.gate_bias

    def decode(self,
               inputs: List[Tensor],
               text: Optional[Dict[str, Tensor]] = None) -> Dict[str, Tensor]:
        """Everything the head computes.

        Args:
            inputs (list[Tensor]): backbone levels (B, C_i, H_i, W_i).
            text (dict[str, Tensor], optional): ``class_embeddings``
                (K, D), defaults to the promptor's; optionally
                ``relevance_logits`` (B, K) to replace the learned gate
                (e.g. class presence read from captions; -inf closes a
                class's gate).

        Returns:
            dict[str, Tensor]: ``logits`` (B, K, H_0, W_0) (the fused
            output), ``semantic_logits`` and ``instance_logits`` (the two
            paths, same shape), ``relevance_logits`` (B, K), ``queries``
            (B, K, E) the decoded semantic queries, ``text`` (K, E) the
            projected class text.
        """
        text = self.promptor() if text is None else text
        feats = self._transform_inputs(inputs)
        memory, mask_feats = self.pixel_decoder(feats)
        emb = text['class_embeddings'].to(mask_feats.dtype)
        if self.center_text and emb.shape[0] > 1:
            # drop the direction all classes share
            emb = F.normalize(emb - emb.mean(0, keepdim=True), dim=-1)
        t = self.text_proj(emb)  # (K, E)
        b, k = mask_feats.shape[0], t.shape[0]
        z = text.get('relevance_logits')
        if z is None:
            z = self.relevance_logits(memory[0], t)  # (B, K)
        log_gate = F.logsigmoid(z).clamp(min=LOG_GATE_MIN)  # (B, K)
        gate = log_gate.exp()[..., None]  # (B, K, 1)
        semantic_q = gate * self.query_content(t)  # (B, K, E)
        instance_q = self.instance_content.expand(b, -1, -1)  # (B, M, E)
        q = torch.cat([semantic_q, instance_q], dim=1)  # (B, K + M, E)
        inst_pos = self.instance_pos.expand(b, -1, -1)
        level_pos = [
            torch.cat([gate * mlp_l(t), inst_pos], dim=1)
            for mlp_l in self.query_levels
        ]  # each (B, K + M, E)
        flat = [m.flatten(2).transpose(1, 2) for m in memory]  # (B, HW, E)
        for i, layer in enumerate(self.layers):
            lvl = i % self.num_levels
            q = layer(q, level_pos[lvl], flat[lvl],
                      self.level_embed[lvl][None, None])
        q = self.query_norm(q)
        pixels = self.pixel_attn(mask_feats, q)  # (B, E, H, W)
        # cosine masks with a learned scale: bounded logits (an unnormalised
        # dot product diverged under SGD at the CamVid head lr, 0.1)
        masks = self.mask_scale.exp().clamp(max=100) * torch.einsum(
            'bne,behw->bnhw', F.normalize(self.mask_embed(q), dim=-1),
            F.normalize(pixels, dim=1))  # (B, K + M, H, W)
        semantic = masks[:, :k]  # (B, K, H, W)
        scale = self.cls_scale.exp().clamp(max=100)
        cls = scale * self._cosine(self.instance_cls(q[:, k:]), t)
        cls = torch.cat([cls, self.no_object.expand(*cls.shape[:2], 1)], -1)
        probs = cls.softmax(-1)[..., :k]  # (B, M, K), no-object dropped
        instance = torch.einsum('bmk,bmhw->bkhw', probs, masks[:, k:])
        logits = semantic + instance + log_gate[..., None, None]
        return dict(
            logits=logits,
            semantic_logits=semantic,
            instance_logits=instance,
            relevance_logits=z,
            queries=q[:, :k],
            text=t)

    def forward(self,
                inputs: List[Tensor],
                text: Optional[Dict[str, Tensor]] = None) -> Tensor:
        """Per-class logits (B, K, H_0, W_0); see :meth:`decode`."""
        return self.decode(inputs, text)['logits']

    def loss(self, inputs: List[Tensor], batch_data_samples: list,
             train_cfg: dict) -> Dict[str, Tensor]:
        """``loss_decode`` on the fused logits (``loss_by_feat``), plus
        ``loss_relevance`` and ``loss_query_align`` (see
        :meth:`text_losses`)."""
        out = self.decode(inputs)
        losses = self.loss_by_feat(out['logits'], batch_data_samples)
        losses.update(self.text_losses(out, batch_data_samples))
        return losses

    def class_presence(self, batch_data_samples: list) -> Tensor:
        """(B, K) float, 1 where a class has a (pseudo) label pixel."""
        present = []
        for sample in batch_data_samples:
            labels = sample.gt_sem_seg.data.flatten()
            labels = labels[(labels != IGNORE_INDEX)
                            & (labels < self.num_classes)]
            present.append(
                torch.bincount(labels.long(), minlength=self.num_classes) > 0)
        return torch.stack(present).float()

    def text_losses(self, out: Dict[str, Tensor],
                    batch_data_samples: list) -> Dict[str, Tensor]:
        """The regularisers.

        Returns:
            dict[str, Tensor]: ``loss_relevance``: BCE of the gate logits
            against class presence in the labels; ``loss_query_align``:
            cross-entropy of cos(W_a q_k, t_j) / tau over j with target k,
            averaged over the classes present in each image (all classes
            of an image without labels).
        """
        z = out['relevance_logits']
        present = self.class_presence(batch_data_samples).to(z.device)
        losses = {}
        if self.relevance_weight > 0:
            losses['loss_relevance'] = self.relevance_weight * \
                F.binary_cross_entropy_with_logits(z, present)
        if self.align_weight > 0:
            sim = self._cosine(self.align_proj(out['queries']),
                               out['text']) / self.align_temperature
            b, k, _ = sim.shape
            target = torch.arange(k, device=sim.device).expand(b, k)
            ce = F.cross_entropy(
                sim.flatten(0, 1), target.flatten(),
                reduction='none').view(b, k)
            weight = torch.where(
                present.sum(1, keepdim=True) > 0, present,
                torch.ones_like(present))
            losses['loss_query_align'] = self.align_weight * (
                (ce * weight).sum() / weight.sum())
        return losses
