"""Mean-teacher semi-supervised training around any MMSeg segmentor."""
import copy
from contextlib import nullcontext
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_reduce
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch import Tensor

from ...utils.constants import IGNORE_INDEX
from ...utils.errors import ConfigError
from ..necks import INFER_MODES
from ..utils import (MIX_CAPTION_MODES, REFINED_CONFIDENCE_MODES,
                     DenseCLIPGuidance, cascade_logits,
                     check_dense_guidance_cfg, class_weights_off,
                     confidence_histogram, cutmix, dense_guidance_loss,
                     feature_dropout, frozen_bn_stats, linear_decay,
                     load_plain_into_first_head, mix_captions,
                     recorded_seg_logits, select_refined, sigmoid_rampup,
                     source_map, update_class_thresholds)
from ..utils.feature_distill import FeatureDistiller
from .vl_encoder_decoder import VLSegmentorMixin

#: every key of ``semi_train_cfg`` with its default
DEFAULT_SEMI_TRAIN_CFG = dict(
    # weight of the supervised loss on the labeled batch
    sup_weight=1.0,
    # weight of the unsupervised loss once ramped up
    unsup_weight=1.0,
    # iterations of the sigmoid ramp-up of unsup_weight (0: none)
    rampup_iters=0,
    # pseudo labels with teacher confidence below this are ignored; with
    # 'class_percentile' the ceiling of the per-class thresholds
    threshold=0.95,
    # 'fixed': one threshold for all classes.
    # 'class_percentile': per class c, the class_percentile-quantile of the
    # teacher's confidence on the pixels it labels c, clamped to
    # [threshold_floor, threshold], EMA over iterations (starts at threshold).
    # 'class_adaptive' (kept for old configs): threshold * p_c / max(p), p_c
    # an EMA of the teacher's mean probability of class c over all pixels;
    # degenerate for rare classes: one with p_c ~ 0.03 max(p) (pole) gets a
    # threshold of ~0.03, so nearly every pixel labelled with it passes
    threshold_mode='fixed',
    # EMA momentum of the per-class statistics of 'class_percentile' and
    # 'class_adaptive' (classes the teacher does not predict keep theirs)
    class_momentum=0.999,
    # 'class_percentile': the quantile in [0, 1] (0.5: median)
    class_percentile=0.5,
    # 'class_percentile': the lowest per-class threshold (<= threshold)
    threshold_floor=0.6,
    # probability that an unlabeled sample gets a CutMix box
    cutmix_prob=0.5,
    # the student's forward on the (CutMix-ed) strong view updates its BN
    # running statistics; False: only the labeled (weakly augmented) batch
    # does, so the teacher, which copies the student's buffers, normalises
    # its weak views with statistics of weak views
    unsup_bn_stats=True,
    # the loss on pseudo labels uses the heads' class weights (e.g.
    # ClassBalancedCrossEntropyLoss); False: unweighted, as pseudo labels of
    # rare classes are the least precise (weights would multiply their errors)
    unsup_class_weight=True,
    # the unlabeled view the teacher labels: 'unsup_weak' or 'unsup_strong'
    teacher_branch='unsup_weak',
    # with a VLFusionNeck: the text the teacher reads for pseudo labels,
    # 'caption' (captions + class text), 'class' or 'vision' (none)
    teacher_text_mode='caption',
    # with captions: the text of a CutMix-ed unlabeled sample, 'union' (the
    # captions of both images it shows, own first; see
    # models/utils/caption_mixing.py) or 'own' (its own caption only)
    mix_captions='union',
    # refine the teacher's pseudo labels with the segmentor's later decode
    # heads (a CascadeEncoderDecoder ending in EdgeAwareMixDiffusionHead);
    # False: pseudo labels from its first head only
    refine_pseudo_labels=False,
    # with refine_pseudo_labels, pseudo labels come from the first head until
    # this iteration: a refining head that starts untrained (e.g. after a
    # supervised burn-in, whose checkpoint has no such head) first learns
    # on labeled crops before its output teaches the student
    refine_start_iter=0,
    # with refine_pseudo_labels, the confidence of refined pseudo labels:
    # 'refined' (the refined class and softmax, calibrated by the head's
    # temperature) or 'first' (the first head's confidence selects pixels,
    # the refined class replaces the first head's only where the refined
    # confidence is >= refine_min_confidence); see
    # models/utils/refined_pseudo_labels.py
    refined_confidence='refined',
    refine_min_confidence=0.5,
    # opt-in: compare pseudo labels with the true labels of the unlabeled
    # view, when its pipeline loads them (benchmarks only, never a loss)
    diagnostics=False,
    # UniMatch's perturbations (Yang et al., CVPR 2023), off by default.
    # Strong views of each unlabeled crop, each with its own CutMix and its
    # own loss on the pseudo labels, weighted unsup_weight / strong_views:
    # 1, or 2 (the unlabeled MultiViewPack then also makes 'unsup_strong2')
    strong_views=1,
    # weight of the feature-perturbation loss, ramped like unsup_weight: the
    # student's decode head(s) on its features of the weak view after
    # channel dropout, against the thresholded pseudo labels (no CutMix).
    # 0: no such branch
    fp_weight=0.0,
    # channel-dropout probability of that branch (Dropout2d, every level)
    fp_dropout=0.5,
    # cross-image distillation (seed 004): configs of set-to-set feature
    # losses, e.g. [dict(type='RelationDistillLoss', loss_weight=1.0),
    # dict(type='StyleDistillLoss', loss_weight=1.0)], between the student's
    # backbone features of the labeled batch and of the (CutMix-ed) strong
    # unlabeled batches (all strong views, one set), taken from those
    # forwards (no second pass); logged as distill.<loss_name>, not ramped
    # (their own loss_weight). Empty: off
    feature_distill=(),
    # the backbone output the distillation reads (index into the backbone's
    # outputs, -1: the deepest)
    feature_distill_level=-1,
    # SemiVL's dense CLIP guidance (seed 001), off by default: a dict, e.g.
    # dict(model='ViT-B-16', pretrained='openai', vocabulary='voc'), with
    # the keys and defaults of DEFAULT_DENSE_GUIDANCE
    # (models/utils/dense_clip_guidance.py). A frozen CLIP labels the
    # teacher's view (MaskCLIP, confidence >= threshold); the labels are
    # CutMixed with the pseudo labels' boxes and train each strong view's
    # prediction with weight * (1 - iter / decay_iters) / strong_views,
    # logged as unsup.loss_mc (unsup2.loss_mc). Needs CLIP's image tower.
    dense_guidance=None,
)
#: the batch branches of the strong views, in order, and their loss prefixes
STRONG_BRANCHES = ('unsup_strong', 'unsup_strong2')
STRONG_PREFIXES = ('unsup', 'unsup2')
DEFAULT_SEMI_TEST_CFG = dict(predict_on='teacher')
#: confidence bins of the 'class_percentile' histograms (width 0.01)
CONFIDENCE_BINS = 100
THRESHOLD_MODES = ('fixed', 'class_adaptive', 'class_percentile')


def _check_semi_train_cfg(cfg: dict) -> None:
    unknown = set(cfg) - set(DEFAULT_SEMI_TRAIN_CFG)
    if unknown:
        raise ConfigError(f'unknown semi_train_cfg keys {sorted(unknown)}; '
                          f'known: {sorted(DEFAULT_SEMI_TRAIN_CFG)}')
    for key in ('threshold', 'cutmix_prob', 'class_momentum',
                'class_percentile', 'threshold_floor',
                'refine_min_confidence'):
        if not 0 <= cfg[key] <= 1:
            raise ConfigError(f'semi_train_cfg.{key} must be in [0, 1], got '
                              f'{cfg[key]}')
    for key in ('sup_weight', 'unsup_weight', 'rampup_iters', 'fp_weight',
                'refine_start_iter'):
        if cfg[key] < 0:
            raise ConfigError(f'semi_train_cfg.{key} must be >= 0, got '
                              f'{cfg[key]}')
    if cfg['threshold_mode'] not in THRESHOLD_MODES:
        raise ConfigError(f'semi_train_cfg.threshold_mode must be one of '
                          f"{THRESHOLD_MODES}, got {cfg['threshold_mode']!r}")
    if cfg['threshold_mode'] == 'class_percentile' and \
            cfg['threshold_floor'] > cfg['threshold']:
        raise ConfigError(
            f"semi_train_cfg.threshold_floor ({cfg['threshold_floor']}) must "
            f"be <= semi_train_cfg.threshold ({cfg['threshold']}), the "
            "ceiling of the per-class thresholds")
    for key in ('unsup_bn_stats', 'unsup_class_weight'):
        if not isinstance(cfg[key], bool):
            raise ConfigError(f'semi_train_cfg.{key} must be True or False, '
                              f'got {cfg[key]!r}')
    if cfg['teacher_text_mode'] not in INFER_MODES:
        raise ConfigError(f'semi_train_cfg.teacher_text_mode must be one of '
                          f"{INFER_MODES}, got {cfg['teacher_text_mode']!r}")
    if cfg['refined_confidence'] not in REFINED_CONFIDENCE_MODES:
        raise ConfigError('semi_train_cfg.refined_confidence must be one of '
                          f'{REFINED_CONFIDENCE_MODES}, got '
                          f"{cfg['refined_confidence']!r}")
    if cfg['mix_captions'] not in MIX_CAPTION_MODES:
        raise ConfigError(f'semi_train_cfg.mix_captions must be one of '
                          f"{MIX_CAPTION_MODES}, got {cfg['mix_captions']!r}")
    if not isinstance(cfg['feature_distill'], (list, tuple)) or not all(
            isinstance(c, dict) and 'type' in c
            for c in cfg['feature_distill']):
        raise ConfigError('semi_train_cfg.feature_distill must be a list of '
                          "loss configs (dicts with a 'type'), got "
                          f"{cfg['feature_distill']!r}")
    if not isinstance(cfg['feature_distill_level'], int) or isinstance(
            cfg['feature_distill_level'], bool):
        raise ConfigError('semi_train_cfg.feature_distill_level must be an '
                          f"int, got {cfg['feature_distill_level']!r}")
    if cfg['teacher_branch'] not in ('unsup_weak', 'unsup_strong'):
        raise ConfigError("semi_train_cfg.teacher_branch must be 'unsup_weak'"
                          f" or 'unsup_strong', got {cfg['teacher_branch']!r}")
    views = cfg['strong_views']
    if type(views) is not int or not 1 <= views <= len(STRONG_BRANCHES):
        raise ConfigError('semi_train_cfg.strong_views must be 1 or 2, got '
                          f'{views!r}')
    if not 0 <= cfg['fp_dropout'] < 1:
        raise ConfigError('semi_train_cfg.fp_dropout must be in [0, 1), got '
                          f"{cfg['fp_dropout']}")
    if cfg['dense_guidance'] is not None:  # filled with its defaults
        cfg['dense_guidance'] = check_dense_guidance_cfg(
            cfg['dense_guidance'])


@MODELS.register_module()
class SemiEncoderDecoder(BaseSegmentor):
    """Student and EMA teacher built from one MMSeg segmentor config.

    Training takes the branches of ``MultiViewPack``: ``sup`` (labeled
    crops), ``unsup_weak`` and ``unsup_strong`` (views of the same
    unlabeled crops; with ``strong_views=2`` also ``unsup_strong2``). The
    loss is::

        sup_weight * L(student(sup), labels)
        + ramp(iter) * (
            unsup_weight / strong_views * sum over strong views v of
                L(student(CutMix_v(strong_v)), CutMix_v(pseudo labels))
            + fp_weight * L(heads(Dropout2d(features(weak))), pseudo labels))
        + sum_k feature_distill[k](backbone features of sup,
                                   backbone features of all CutMix_v(strong_v))
        + w (1 - t / T) / strong_views * sum over strong views v of
            L_mc(student(CutMix_v(strong_v)), CutMix_v(CLIP labels))

    where pseudo labels come from :meth:`get_pseudo_labels` (the teacher on
    ``teacher_branch``), pixels below the confidence threshold
    (:meth:`thresholds`) and padding are ignored, and CutMix pastes boxes
    between unlabeled samples in images and pseudo labels alike, drawn
    anew for each strong view. With ``unsup_bn_stats=False`` the
    unsupervised forwards leave the student's BN running statistics alone,
    with ``unsup_class_weight=False`` their losses ignore the heads' class
    weights (DyCE's too, see ``class_weights_off``). The
    ``feature_distill`` losses (cross-image distillation) read output
    ``feature_distill_level`` of the student's backbone in the labeled and
    the strong forwards (:class:`FeatureDistiller`, no second pass). The
    teacher is updated by ``SemiMeanTeacherHook`` (EMA of the
    student), never by gradients. The last term is SemiVL's dense CLIP
    guidance (``dense_guidance``, off by default): labels of the teacher's
    view from a frozen CLIP (:class:`DenseCLIPGuidance`, not a sub-module:
    not trained, not in checkpoints), mixed by the same CutMix call as the
    pseudo labels, L_mc the cross-entropy on the logits the student's
    first decode head is trained on in that strong forward
    (:func:`recorded_seg_logits`, no second pass) summed over labelled
    pixels and divided by all (:func:`dense_guidance_loss`); t the
    iteration, T ``decay_iters`` or the run's ``max_iters``. SemiVL also
    adds it on the fp branch; here it is not. Mean teacher: Tarvainen &
    Valpola, NeurIPS 2017; weak-to-strong consistency: FixMatch (Sohn et
    al., 2020), UniMatch (Yang et al., 2023).

    UniMatch's perturbations (``strong_views=2``, ``fp_weight > 0``; off by
    default): a second strong view with its own loss (``unsup2.*``) and the
    feature-perturbation branch (``fp.*``, :meth:`fp_loss`): the student's
    features of the weak view (the neck's output, with a ``VLFusionNeck``
    read with the captions as in training), ``Dropout2d(fp_dropout)`` on
    every level, then the decode head(s), all heads of a cascade, against
    the thresholded pseudo labels without CutMix. The auxiliary head is not
    trained on that branch (UniMatch has none). It exists only in
    :meth:`loss`: prediction never drops features. UniMatch's weighting
    ``(L_sup + 0.25 L_s1 + 0.25 L_s2 + 0.5 L_fp) / 2`` is
    ``sup_weight=0.5, unsup_weight=0.25, strong_views=2, fp_weight=0.25``
    (``configs/_base_/unimatch.py``). Unlike UniMatch the pseudo labels
    come from the EMA teacher, not from the model being trained, and the
    fp branch runs its own forward of the weak view.

    Args:
        segmentor (dict): config of any MMSeg segmentor (e.g. an
            ``EncoderDecoder``); student and teacher are built from it.
        semi_train_cfg (dict, optional): overrides of
            :data:`DEFAULT_SEMI_TRAIN_CFG` (see the comments there).
        semi_test_cfg (dict, optional): ``predict_on``: 'teacher' (default)
            or 'student', the model used for validation and testing.
        data_preprocessor (dict, optional): defaults to the segmentor's; a
            ``SegDataPreProcessor`` becomes a ``SemiSegDataPreProcessor``
            with the same settings.
        init_cfg (dict, optional): initialisation config.
        pretrained, train_cfg: accepted as None only, the value
            ``mmseg.apis.init_model`` gives every model; the segmentor's own
            belong in ``segmentor``.
    """

    def __init__(self,
                 segmentor: dict,
                 semi_train_cfg: Optional[dict] = None,
                 semi_test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 pretrained: Optional[str] = None,
                 train_cfg: Optional[dict] = None) -> None:
        for key, value in (('pretrained', pretrained), ('train_cfg',
                                                        train_cfg)):
            if value is not None:
                raise ConfigError(
                    f'SemiEncoderDecoder takes no {key}: set it on '
                    f'model.segmentor (student and teacher are built from '
                    f'it), got model.{key}={value!r}')
        if data_preprocessor is None:
            data_preprocessor = segmentor.get('data_preprocessor') or {}
        data_preprocessor = copy.deepcopy(data_preprocessor)
        if data_preprocessor.get('type') in (None, 'SegDataPreProcessor',
                                             'mmseg.SegDataPreProcessor'):
            # same settings, plus unpacking of the semi-supervised branches
            data_preprocessor['type'] = 'SemiSegDataPreProcessor'
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.semi_train_cfg = dict(DEFAULT_SEMI_TRAIN_CFG,
                                   **(semi_train_cfg or {}))
        _check_semi_train_cfg(self.semi_train_cfg)
        self.semi_test_cfg = dict(DEFAULT_SEMI_TEST_CFG, **(semi_test_cfg
                                                            or {}))
        if self.semi_test_cfg['predict_on'] not in ('teacher', 'student'):
            raise ConfigError("semi_test_cfg.predict_on must be 'teacher' or "
                              f"'student', got "
                              f"{self.semi_test_cfg['predict_on']!r}")
        self.student = MODELS.build(copy.deepcopy(segmentor))
        self.teacher = MODELS.build(copy.deepcopy(segmentor))
        self.teacher.requires_grad_(False)
        if self.semi_train_cfg['fp_weight'] > 0 and not isinstance(
                self.student, EncoderDecoder):
            raise ConfigError(
                'semi_train_cfg.fp_weight > 0 (feature perturbation) needs an '
                'EncoderDecoder-type segmentor (features from extract_feat, '
                'then its decode heads), got model.segmentor.type='
                f"{segmentor.get('type')!r}")
        self.feature_distiller = None
        if self.semi_train_cfg['feature_distill']:
            self.feature_distiller = FeatureDistiller(
                self.semi_train_cfg['feature_distill'],
                self.semi_train_cfg['feature_distill_level'])
            self.feature_distiller.attach(self.student.backbone)
        if self.semi_train_cfg['refine_pseudo_labels'] and not isinstance(
                self.teacher.decode_head, nn.ModuleList):
            raise ConfigError(
                'semi_train_cfg.refine_pseudo_labels needs a '
                'CascadeEncoderDecoder segmentor whose later decode heads '
                'refine the first (e.g. EdgeAwareMixDiffusionHead)')
        num_classes = self.num_classes
        self.register_buffer('class_confidence',
                             torch.full((num_classes, ), 1.0 / num_classes))
        if self.semi_train_cfg['threshold_mode'] == 'class_percentile':
            # only in this mode, so older checkpoints load unchanged
            self.register_buffer(
                'class_threshold',
                torch.full((num_classes, ), self.semi_train_cfg['threshold']))
        self.dense_guidance = None
        if self.semi_train_cfg['dense_guidance'] is not None:
            self.dense_guidance = DenseCLIPGuidance.from_cfg(
                self.semi_train_cfg['dense_guidance'], num_classes,
                self.data_preprocessor, 'semi_train_cfg.dense_guidance')
        self.train_iter = 0
        self.max_iters: Optional[int] = None
        self._register_load_state_dict_pre_hook(self._load_plain_checkpoint)

    # ------------------------------------------------------------------
    # bookkeeping
    def train(self, mode: bool = True):
        """The teacher always runs in eval mode: its BN layers use the
        statistics SemiMeanTeacherHook gives them, never batch statistics."""
        super().train(mode)
        self.teacher.eval()
        return self

    def set_train_iter(self, iteration: int) -> None:
        """Called by ``SemiMeanTeacherHook`` before each training step."""
        self.train_iter = int(iteration)

    def set_max_iters(self, max_iters: int) -> None:
        """Called by ``SemiMeanTeacherHook`` before training: the run's
        length, the default end of the dense guidance decay."""
        self.max_iters = int(max_iters)

    @property
    def unsup_ramp(self) -> float:
        """The ramp-up factor in [0, 1] of the losses on pseudo labels."""
        return sigmoid_rampup(self.train_iter,
                              self.semi_train_cfg['rampup_iters'])

    @property
    def refining(self) -> bool:
        """Whether pseudo labels come from the refining heads now
        (``refine_pseudo_labels``, from ``refine_start_iter`` on)."""
        cfg = self.semi_train_cfg
        return cfg['refine_pseudo_labels'] and \
            self.train_iter >= cfg['refine_start_iter']

    @property
    def current_unsup_weight(self) -> float:
        return self.semi_train_cfg['unsup_weight'] * self.unsup_ramp

    @property
    def current_guidance_weight(self) -> float:
        """w (1 - t / T) clamped at 0, the weight of the dense guidance
        loss now (summed over the strong views); 0 when it is off."""
        cfg = self.semi_train_cfg['dense_guidance']
        if cfg is None:
            return 0.0
        length = cfg['decay_iters'] or self.max_iters
        if not length:
            raise ConfigError(
                'semi_train_cfg.dense_guidance.decay_iters is None, and the '
                "run's max_iters is unknown (SemiMeanTeacherHook tells it): "
                'set decay_iters')
        return cfg['weight'] * linear_decay(self.train_iter, length)

    def _load_plain_checkpoint(self, state_dict, prefix, *args) -> None:
        """Load a plain (non-semi) segmentor checkpoint into both models.

        A checkpoint with one decode head loads into the first head of a
        cascade student (``decode_head.x`` -> ``decode_head.0.x``): e.g. a
        supervised burn-in model under a diffusion-refining cascade, whose
        refining head then starts fresh."""
        own = [k for k in state_dict if k.startswith(prefix)]
        if not own or any(k[len(prefix):].startswith(('student.', 'teacher.'))
                          for k in own):
            return
        for key in own:
            value = state_dict.pop(key)
            rest = key[len(prefix):]
            state_dict[f'{prefix}student.{rest}'] = value
            state_dict[f'{prefix}teacher.{rest}'] = value.clone()
        if isinstance(self.student.decode_head, nn.ModuleList):
            for model in ('student.', 'teacher.'):
                load_plain_into_first_head(state_dict, prefix + model)

    # ------------------------------------------------------------------
    # pseudo labels
    @property
    def num_classes(self) -> int:
        heads = self.student.decode_head
        return (heads[-1]
                if isinstance(heads, nn.ModuleList) else heads).num_classes

    def teacher_logits(self,
                       inputs: Tensor,
                       data_samples: Optional[list] = None,
                       refined: Optional[bool] = None) -> Tensor:
        """Teacher logits (B, K, H, W) at the input resolution.

        Args:
            inputs (Tensor): (B, 3, H, W).
            data_samples (list[SegDataSample], optional): their samples; a
                vision-language teacher reads their captions (in
                ``teacher_text_mode``).
            refined (bool, optional): for a cascade teacher, run the later
                (refining) heads too; defaults to
                ``semi_train_cfg.refine_pseudo_labels``.
        """
        if refined is None:
            refined = self.semi_train_cfg['refine_pseudo_labels']
        first, last = self.teacher_first_and_refined(inputs, data_samples,
                                                     refined)
        return first if last is None else last

    def teacher_first_and_refined(self,
                                  inputs: Tensor,
                                  data_samples: Optional[list] = None,
                                  refined: bool = True
                                  ) -> Tuple[Tensor, Optional[Tensor]]:
        """The teacher's first-head and refined logits, (B, K, H, W) each
        at the input resolution, from one backbone pass; the refined ones
        are None without a cascade or with ``refined=False``."""
        if isinstance(self.teacher, VLSegmentorMixin):
            metas = [s.metainfo for s in data_samples] \
                if data_samples is not None else None
            feats = self.teacher.extract_feat(
                inputs, metas, mode=self.semi_train_cfg['teacher_text_mode'])
        else:
            feats = self.teacher.extract_feat(inputs)
        first, last, used = cascade_logits(self.teacher, feats, refined)
        heads = self.teacher.decode_head
        first_head = heads[0] if isinstance(heads, nn.ModuleList) else heads
        up = [
            None if x is None else F.interpolate(
                x,
                size=inputs.shape[2:],
                mode='bilinear',
                align_corners=head.align_corners)
            for x, head in ((first, first_head), (last, used))
        ]
        return up[0], up[1]

    @torch.no_grad()
    def get_pseudo_labels(self, inputs: Tensor,
                          data_samples: list) -> Tuple[Tensor, Tensor, Tensor]:
        """Teacher pseudo labels for a batch of unlabeled views.

        With ``refine_pseudo_labels`` the cascade's refined prediction
        gives labels and confidence as ``refined_confidence`` says
        (:func:`select_refined`). Later methods override this one method.

        Args:
            inputs (Tensor): (B, 3, H, W) preprocessed teacher view.
            data_samples (list[SegDataSample]): their samples (padding info).

        Returns:
            tuple[Tensor]: probabilities (B, K, H, W), labels (B, H, W) long
            and confidence (B, H, W); padded pixels get label 255 and
            confidence 0.
        """
        cfg = self.semi_train_cfg
        first, refined = self.teacher_first_and_refined(
            inputs, data_samples, self.refining)
        if refined is None:
            probs = first.softmax(dim=1)
            confidence, labels = probs.max(dim=1)
        else:
            probs, labels, confidence = select_refined(
                first.softmax(dim=1), refined.softmax(dim=1),
                cfg['refined_confidence'], cfg['refine_min_confidence'])
        valid = self._valid_mask(inputs, data_samples)
        labels[~valid] = IGNORE_INDEX
        confidence[~valid] = 0
        return probs, labels, confidence

    @staticmethod
    def _valid_mask(inputs: Tensor, data_samples: list) -> Tensor:
        """(B, H, W) bool, False on the padding added by the preprocessor."""
        b, _, h, w = inputs.shape
        valid = torch.zeros(b, h, w, dtype=torch.bool, device=inputs.device)
        for i, sample in enumerate(data_samples):
            img_h, img_w = sample.metainfo.get('img_shape', (h, w))[:2]
            valid[i, :img_h, :img_w] = True
        return valid

    def thresholds(self,
                   probs: Tensor,
                   labels: Tensor,
                   confidence: Optional[Tensor] = None) -> Tensor:
        """Per-pixel confidence threshold (B, H, W) for the given labels.

        In training mode the per-class modes first fold this batch into
        their statistics, with exactly one ``all_reduce`` per call on every
        rank (also on a rank without valid pixels, else DDP would hang), so
        all ranks hold the same thresholds.

        Args:
            probs (Tensor): (B, K, H, W) teacher probabilities.
            labels (Tensor): (B, H, W) pseudo labels, 255 where invalid.
            confidence (Tensor, optional): (B, H, W) the confidence the
                thresholds are compared with; defaults to ``probs.max(1)``.

        Returns:
            Tensor: (B, H, W) thresholds (any value on invalid pixels).
        """
        cfg = self.semi_train_cfg
        mode = cfg['threshold_mode']
        if mode == 'fixed':
            return torch.full_like(labels, cfg['threshold'], dtype=probs.dtype)
        if mode == 'class_adaptive':
            if self.training:
                self._update_class_confidence(probs, labels)
            per_class = cfg['threshold'] * self.class_confidence / \
                self.class_confidence.max()  # (K,)
        else:  # 'class_percentile'
            if self.training:
                if confidence is None:
                    confidence = probs.max(dim=1)[0]
                self._update_class_threshold(confidence, labels)
            per_class = self.class_threshold  # (K,)
        return per_class[labels.clamp(max=per_class.numel() - 1)]

    def _update_class_confidence(self, probs: Tensor, labels: Tensor) -> None:
        """EMA of the mean probability per class over valid pixels
        ('class_adaptive'); unchanged when no rank has a valid pixel."""
        valid = labels != IGNORE_INDEX  # (B, H, W)
        flat = probs.permute(0, 2, 3, 1)[valid]  # (P, K)
        stats = torch.cat([
            flat.sum(dim=0).double(),
            flat.new_full((1, ), flat.shape[0], dtype=torch.double)
        ])  # (K + 1,): per-class sums, pixel count
        all_reduce(stats, op='sum')  # every rank joins, even with P = 0
        count = stats[-1]
        mean_probs = (stats[:-1] / count.clamp(min=1)).to(
            self.class_confidence)  # (K,)
        m = self.semi_train_cfg['class_momentum']
        updated = m * self.class_confidence + (1 - m) * mean_probs
        self.class_confidence.copy_(
            torch.where(count > 0, updated, self.class_confidence))

    def _update_class_threshold(self, confidence: Tensor,
                                labels: Tensor) -> None:
        """EMA step of the per-class percentile thresholds
        ('class_percentile'); classes no rank predicts keep theirs."""
        cfg = self.semi_train_cfg
        hist = confidence_histogram(confidence, labels, self.num_classes,
                                    CONFIDENCE_BINS,
                                    IGNORE_INDEX)  # (K, bins) long
        all_reduce(hist, op='sum')  # every rank joins, even with no pixel
        self.class_threshold.copy_(
            update_class_thresholds(self.class_threshold, hist,
                                    cfg['class_percentile'],
                                    cfg['class_momentum'],
                                    cfg['threshold_floor'], cfg['threshold']))

    # ------------------------------------------------------------------
    # training
    @staticmethod
    def _with_labels(data_samples: list, labels: Tensor) -> list:
        """Fresh samples with only metainfo and ``labels`` (B, H, W) as GT."""
        out = []
        for sample, label in zip(data_samples, labels):
            new = SegDataSample(metainfo=sample.metainfo)
            new.gt_sem_seg = PixelData(data=label[None])
            out.append(new)
        return out

    @staticmethod
    def _weighted(losses: dict, weight: float, prefix: str) -> dict:
        return {
            f'{prefix}.{k}': (v * weight if 'loss' in k else v)
            for k, v in losses.items()
        }

    def loss(self, inputs: Dict[str, Tensor],
             data_samples: Dict[str, list]) -> dict:
        """Supervised + unsupervised losses of one semi-supervised batch.

        Args:
            inputs (dict[str, Tensor]): ``sup``, ``unsup_weak``,
                ``unsup_strong``: (B_branch, 3, H, W) each.
            data_samples (dict[str, list[SegDataSample]]): same keys.

        Returns:
            dict[str, Tensor]: ``sup.*`` and ``unsup.*`` losses (with
            ``strong_views=2`` also ``unsup2.*``, with ``fp_weight > 0``
            ``fp.*``, with ``dense_guidance`` ``unsup.loss_mc``), plus
            logged (not optimised) ``pseudo_conf_ratio`` and, in
            diagnostic mode, ``pseudo_acc``, ``pseudo_conf_acc`` and
            ``pseudo_miou``.
        """
        cfg = self.semi_train_cfg
        strong_branches = STRONG_BRANCHES[:cfg['strong_views']]
        missing = [b for b in strong_branches if b not in inputs]
        if missing:
            raise ConfigError(
                f"semi_train_cfg.strong_views={cfg['strong_views']} needs the "
                f'branches {list(strong_branches)} in every batch, but '
                f'{missing} are missing: add them to the views of the '
                "unlabeled pipeline's MultiViewPack (e.g. "
                "unsup_strong2=[dict(type='StrongPhotometricAug')])")
        losses = self._weighted(
            self.student.loss(inputs['sup'], data_samples['sup']),
            cfg['sup_weight'], 'sup')

        branch = cfg['teacher_branch']
        probs, labels, confidence = self.get_pseudo_labels(
            inputs[branch], data_samples[branch])
        confident = confidence >= self.thresholds(probs, labels, confidence)
        valid = labels != IGNORE_INDEX
        masked = torch.where(confident & valid, labels,
                             torch.full_like(labels, IGNORE_INDEX))
        weight = self.current_unsup_weight
        guide = self.guidance_labels(inputs[branch], data_samples[branch])
        bn_stats = nullcontext() if cfg['unsup_bn_stats'] else \
            frozen_bn_stats(self.student)
        class_weights = nullcontext() if cfg['unsup_class_weight'] else \
            class_weights_off(self.student)
        # every rank runs every branch, whatever its pseudo labels (DDP)
        with bn_stats, class_weights:
            strongs = []  # the student's inputs of the strong views
            for strong_branch, prefix in zip(strong_branches,
                                             STRONG_PREFIXES):
                # a new CutMix per view: its own boxes and partners; the
                # text of a mixed sample follows its pixels (mix_captions),
                # the CLIP labels are mixed by the same call (same boxes)
                targets = (masked, source_map(masked))
                if guide is not None:
                    targets += (guide, )
                strong, mixed_targets = cutmix(inputs[strong_branch],
                                               targets, cfg['cutmix_prob'])[:2]
                mixed, sources = mixed_targets[:2]
                strongs.append(strong)
                strong_samples = mix_captions(data_samples[strong_branch],
                                              sources, cfg['mix_captions'])
                record = recorded_seg_logits(self.student) \
                    if guide is not None else nullcontext([])
                with record as seen:
                    unsup = self.student.loss(
                        strong, self._with_labels(strong_samples, mixed))
                losses.update(
                    self._weighted(unsup, weight / cfg['strong_views'],
                                   prefix))
                if self.dense_guidance is not None:
                    losses[f'{prefix}.loss_mc'] = self.guidance_loss(
                        seen, mixed_targets[2] if guide is not None else None,
                        strong)
            if cfg['fp_weight'] > 0:
                fp = self.fp_loss(inputs['unsup_weak'],
                                  data_samples['unsup_weak'], masked)
                losses.update(
                    self._weighted(fp, cfg['fp_weight'] * self.unsup_ramp,
                                   'fp'))
        if self.feature_distiller is not None:
            losses.update(
                self.feature_distiller(self.student, inputs['sup'], strongs))
        losses['pseudo_conf_ratio'] = (confident & valid).sum() / \
            valid.sum().clamp(min=1)
        if cfg['diagnostics']:
            losses.update(
                self.pseudo_label_quality(labels, confident,
                                          data_samples[branch]))
            if self.refining:  # the same, before refinement
                with torch.no_grad():
                    conf_first, labels_first = self.teacher_logits(
                        inputs[branch], data_samples[branch],
                        refined=False).softmax(dim=1).max(1)
                labels_first[~valid] = IGNORE_INDEX
                first = self.pseudo_label_quality(
                    labels_first, conf_first >= cfg['threshold'],
                    data_samples[branch])
                losses.update({f'first_{k}': v for k, v in first.items()})
        return losses

    def guidance_labels(self, inputs: Tensor,
                        data_samples: list) -> Optional[Tensor]:
        """The dense CLIP guidance labels (B, H, W) of ``inputs`` (255 where
        ignored or padded), or None when the guidance is off or its weight
        is 0 now (the CLIP is not run then)."""
        if self.dense_guidance is None or self.current_guidance_weight == 0:
            return None
        return self.dense_guidance.labels(
            inputs, self._valid_mask(inputs, data_samples))

    def guidance_loss(self, seen: list, labels: Optional[Tensor],
                      strong: Tensor) -> Tensor:
        """The weighted dense guidance loss of one strong view.

        Args:
            seen (list[Tensor]): the (B, K, H, W) logits recorded from the
                student's first decode head in that view's forward.
            labels (Tensor, optional): (B, H, W) CutMixed guidance labels;
                None (weight 0 now): a zero loss.
            strong (Tensor): (B, 3, H, W) the view (device of the zero).
        """
        if labels is None:
            return strong.new_zeros(())
        if not seen:
            heads = self.student.decode_head
            head = heads[0] if isinstance(heads, nn.ModuleList) else heads
            raise ConfigError(
                'semi_train_cfg.dense_guidance trains the logits the '
                "student's first decode head passes to its loss_decode "
                f'(MMSeg\'s loss_by_feat); {type(head).__name__} passed none')
        return self.current_guidance_weight / \
            self.semi_train_cfg['strong_views'] * \
            dense_guidance_loss(seen[0], labels)

    def fp_loss(self, inputs: Tensor, data_samples: list,
                labels: Tensor) -> Dict[str, Tensor]:
        """UniMatch's feature-perturbation loss (unweighted).

        The student's features of ``inputs`` (what its decode head reads:
        backbone, then neck if any; a ``VLFusionNeck`` reads the captions of
        ``data_samples`` in its training mode), channel dropout
        (:func:`feature_dropout`, ``fp_dropout``) on every level in training
        mode, then the segmentor's decode head(s) trained on ``labels``.

        Args:
            inputs (Tensor): (B, 3, H, W) the weak unlabeled view.
            data_samples (list[SegDataSample]): their samples (metainfo).
            labels (Tensor): (B, H, W) long, thresholded pseudo labels, 255
                where ignored.

        Returns:
            dict[str, Tensor]: the decode heads' losses (``decode.*``, a
            cascade ``decode_0.*``, ``decode_1.*`` ...).
        """
        student = self.student
        if isinstance(student, VLSegmentorMixin):
            feats = student.extract_feat(inputs,
                                         [s.metainfo for s in data_samples])
        else:
            feats = student.extract_feat(inputs)
        feats = feature_dropout(feats, self.semi_train_cfg['fp_dropout'],
                                self.training)  # (B, C_l, H_l, W_l) each
        return student._decode_head_forward_train(
            feats, self._with_labels(data_samples, labels))

    @torch.no_grad()
    def pseudo_label_quality(self, labels: Tensor, confident: Tensor,
                             data_samples: list) -> Dict[str, Tensor]:
        """Pseudo labels vs true labels of the unlabeled views (diagnostic).

        Only reads ``gt_sem_seg`` of the teacher-branch samples, after the
        pseudo labels are fixed, and returns detached numbers for the log.
        Empty when the unlabeled pipeline did not load labels.
        """
        if not all('gt_sem_seg' in s for s in data_samples):
            return {}
        gt = torch.stack([s.gt_sem_seg.data[0] for s in data_samples])
        gt = gt.to(labels.device)  # (B, H, W)
        valid = (gt != IGNORE_INDEX) & (labels != IGNORE_INDEX)
        correct = (labels == gt) & valid
        out = dict(
            pseudo_acc=correct.sum() / valid.sum().clamp(min=1),
            pseudo_conf_acc=(correct & confident).sum() /
            (valid & confident).sum().clamp(min=1))
        ious = []
        for c in range(self.num_classes):
            pred_c, gt_c = (labels == c) & valid, (gt == c) & valid
            union = (pred_c | gt_c).sum()
            if union > 0:
                ious.append((pred_c & gt_c).sum() / union)
        out['pseudo_miou'] = torch.stack(ious).mean() if ious else \
            labels.new_zeros((), dtype=torch.float)
        return out

    # ------------------------------------------------------------------
    # inference: delegated to the model chosen by semi_test_cfg.predict_on
    @property
    def predictor(self) -> BaseSegmentor:
        return getattr(self, self.semi_test_cfg['predict_on'])

    def predict(self, inputs: Tensor, data_samples=None) -> list:
        return self.predictor.predict(inputs, data_samples)

    def _forward(self, inputs: Tensor, data_samples=None) -> Tensor:
        return self.predictor._forward(inputs, data_samples)

    def extract_feat(self, inputs: Tensor):
        return self.predictor.extract_feat(inputs)

    def encode_decode(self, inputs: Tensor, batch_data_samples: list):
        return self.predictor.encode_decode(inputs, batch_data_samples)
