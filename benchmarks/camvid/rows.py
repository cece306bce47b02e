"""The ablation's rows (one method each) and the config a run of a row
trains: the row's config with the benchmark's overrides (seed,
iterations, validation and checkpoint interval, checkpoint selection,
caption file, dataloader workers)."""
import os.path as osp
from typing import Dict, NamedTuple, Optional

from .errors import BenchmarkError
from .paths import ROOT

#: iterations of a row that sets none; the docstring of
#: benchmarks/camvid_semi.py says how it was chosen
DEFAULT_ITERS = 2000
#: validations per run when --val-interval is not given
VALIDATIONS = 4


class Row(NamedTuple):
    """One method of the ablation.

    Attributes:
        config (str): config path relative to the repository root.
        semi (bool): a ``SemiEncoderDecoder`` (teacher selected and tested).
        captions (bool): its pipelines read captions (of ``captioner``).
        label (str): the method's name in the report.
        options (dict): config overrides (``--cfg-options`` style keys) on
            top of ``config``, for ablations of one setting.
        iters (int, optional): the row's training iterations when ``run``
            is given no ``--iters`` (default :data:`DEFAULT_ITERS`).
        init_from (str, optional): a row: the run starts from the best
            checkpoint of that row's run of the same seed (``load_from``),
            which must have been run first; ``'supervised'`` is a supervised
            burn-in as in Unbiased Teacher (Liu et al., ICLR 2021), a
            ``supervised-<head>`` row the new head's supervised phase.
        captioner (str): where the captions come from: 'template' (the
            ``supervised`` row's predictions, one file per seed) or
            'oracle' / 'oracle-regions' (ground-truth label maps: a
            diagnostic that reads the labels of unlabeled and test images,
            an upper bound, never a result).
    """
    config: str
    semi: bool
    captions: bool
    label: str
    options: Optional[dict] = None
    iters: Optional[int] = None
    init_from: Optional[str] = None
    captioner: str = 'template'


#: semi-supervised iterations after the supervised burn-in
SEMI_ITERS = 400

#: the mean teacher's config and its burn-in learning rate: fine-tunes the
#: supervised model at a tenth of the config's, chosen on val (mean best
#: teacher val mIoU 54.69 over seeds 0, 1 against 54.38 at the config's
#: 0.01, row meanteacher-lr0.01)
MEANTEACHER = 'configs/viladiff/meanteacher_effnetl0_camvid_1-8.py'
BURN_IN_LR = {'optim_wrapper.optimizer.lr': 0.001}
#: the mean teacher with UniMatch's perturbations (second strong view,
#: feature perturbation, UniMatch's loss weights)
UNIMATCH = 'configs/viladiff/unimatch_effnetl0_camvid_1-8.py'

#: the mean teacher with the vision-language path; from the burn-in
#: checkpoint (a plain segmentor) it loads the backbone and heads, while
#: the VLFusionNeck starts fresh, as the identity (zero-initialised gates,
#: feedback and adapter outputs), so the first step predicts as the
#: supervised model does. The fresh neck learns at the heads' 10x rate.
MEANTEACHER_VL = 'configs/viladiff/meanteacher-vl_effnetl0_camvid_1-8.py'
VL_BURN_IN = {
    'optim_wrapper.paramwise_cfg.custom_keys.neck': dict(lr_mult=10.0)
}
#: a refining head added on top of the supervised model gets its own
#: supervised phase before the mean teacher: REFINER_ITERS iterations on
#: the 45 labels from the ``supervised`` row's model, at the config's
#: learning rates, with everything loaded frozen (lr_mult 0: backbone,
#: auxiliary head, the cascade's first head), so the phase trains the
#: refiner and the model the mean teacher starts from gets no extra
#: supervised iterations. Measured without it (meanteacher-diffrefine seed
#: 0, 2026-12-04, refiner fresh at the burn-in and trained on labeled crops
#: for the first 100 semi iterations, stopped at 200): the cascade's refined
#: output that val and test read fell far below the first head's (teacher
#: val 12.5 at 100, 39.0 at 200; the supervised start: 55.1).
REFINER_ITERS = 500
REFINER_PHASE = {
    'optim_wrapper.paramwise_cfg.custom_keys': {
        'backbone': dict(lr_mult=0.0),
        'auxiliary_head': dict(lr_mult=0.0),
        'decode_head.0': dict(lr_mult=0.0)
    }
}
#: the refiner with the supervised head's loss: median-frequency class
#: weights of the labeled images (its config's plain CE gives pole,
#: pedestrian and bicyclist almost no confident refined pseudo labels:
#: meanteacher-diffrefine seed 0, benchmarks/results/pseudo_labels.md)
REFINER_CLASS_WEIGHTS = dict(
    type='ClassBalancedCrossEntropyLoss',
    class_weight=osp.join(ROOT, 'configs', '_base_', 'datasets',
                          'camvid_1-8_class_weights.json'))
#: the VL path's own supervised phase (issue 18): NECK_ITERS iterations on
#: the 45 labels from the ``supervised`` row's model with everything loaded
#: frozen, so only the VLFusionNeck trains (at its config's 10x rate, 0.1),
#: and val selects it by caption inference. Why: in `meanteacher-vl-oracle`
#: the neck, fresh at the burn-in, barely left the identity in 400
#: iterations at 0.01 (gates, feedback and adapters at most 0.003), so that
#: row could not say whether the fusion can use text that carries
#: information.
NECK_ITERS = 500
#: the same with the decode head learning too (at its config's rate), so
#: the head can adapt to what the text adds; the backbone and auxiliary
#: head stay frozen
NECK_HEAD_PHASE = {
    'optim_wrapper.paramwise_cfg.custom_keys': {
        'backbone': dict(lr_mult=0.0),
        'auxiliary_head': dict(lr_mult=0.0)
    },
    'model.neck.infer_mode': 'caption'
}
NECK_PHASE = {
    **NECK_HEAD_PHASE, 'optim_wrapper.paramwise_cfg.custom_keys': {
        **NECK_HEAD_PHASE['optim_wrapper.paramwise_cfg.custom_keys'],
        'decode_head': dict(lr_mult=0.0)
    }
}
#: the row label of every row whose captions read labels
ORACLE_LABEL = 'oracle captions (diagnostic, reads labels)'


def burn_in_row(label: str,
                options: Optional[dict] = None,
                config: str = MEANTEACHER,
                captioner: Optional[str] = None,
                init_from: str = 'supervised') -> Row:
    """A semi-supervised row on the supervised burn-in protocol:
    :data:`SEMI_ITERS` iterations of ``config`` (default: the mean teacher;
    a method on top of it, e.g. ``unimatch_*``, ``cid_*``) from the model of
    row ``init_from`` at :data:`BURN_IN_LR`, with ``options``
    (``--cfg-options`` keys) on top and captions of ``captioner`` (None:
    no captions)."""
    return Row(
        config,
        True,
        captioner is not None,
        label, {
            **BURN_IN_LR,
            **(options or {})
        },
        iters=SEMI_ITERS,
        init_from=init_from,
        captioner=captioner or 'template')


#: the mean teacher from the grounded neck-and-head phase with its text
#: prior: added to the logits at scale 1 (the best fixed scale on val for
#: that phase's model, benchmarks/text_prior_sweep.py), learned per class
#: from there; val selects by caption inference
PRIOR_BURN_IN = {
    **VL_BURN_IN, 'model.segmentor.neck.ground_weight': 1.0,
    'model.segmentor.neck.ground_prior': True,
    'model.segmentor.neck.prior_init': 1.0,
    'model.segmentor.neck.infer_mode': 'caption'
}


def oracle_prior_row(what: str, options: Optional[dict] = None) -> Row:
    """The diagnostic mean teacher on :data:`PRIOR_BURN_IN` from the
    grounded neck-and-head phase, every training crop (labeled or not)
    captioned from its own labels; ``what`` ends its label, ``options``
    go on top."""
    return burn_in_row(
        f'mean teacher + VL path from the grounded phase, crop-consistent '
        f'{ORACLE_LABEL}: classes per 3x3 cell, {what}', {
            **PRIOR_BURN_IN,
            **(options or {})
        },
        config='configs/viladiff/meanteacher-vl_effnetl0_camvid_1-8_'
        'crop-oracle.py',
        captioner='oracle-regions',
        init_from='supervised-vl-oracle-crop-ground')


#: the rows, in report order
ROWS: Dict[str, Row] = {
    'supervised':
    Row('configs/baselines/deeplabv3p_effnetl0_camvid_1-8.py', False, False,
        'supervised (45 labels)'),
    'meanteacher':
    burn_in_row('mean teacher'),
    # ablations, one setting each: the loss on pseudo labels weighted by the
    # supervised loss's median-frequency class weights; the config's own
    # learning rate; one confidence threshold for every class (the config's
    # are per class, between 0.6 and 0.95)
    'meanteacher-unsupcw':
    burn_in_row('mean teacher, class-weighted loss on pseudo labels',
                {'model.semi_train_cfg.unsup_class_weight': True}),
    'meanteacher-lr0.01':
    burn_in_row('mean teacher, learning rate 0.01',
                {'optim_wrapper.optimizer.lr': 0.01}),
    'meanteacher-tau0.95':
    burn_in_row(
        'mean teacher, fixed threshold 0.95', {
            'model.semi_train_cfg.threshold_mode': 'fixed',
            'model.semi_train_cfg.threshold': 0.95
        }),
    'meanteacher-tau0.8':
    burn_in_row(
        'mean teacher, fixed threshold 0.8', {
            'model.semi_train_cfg.threshold_mode': 'fixed',
            'model.semi_train_cfg.threshold': 0.8
        }),
    # UniMatch's perturbations on the same protocol, learning rate and
    # pseudo labels (EMA teacher) as `meanteacher`
    'unimatch':
    burn_in_row('mean teacher + UniMatch perturbations', config=UNIMATCH),
    # neighbouring methods on top of the mean teacher, same protocol:
    # cross-image distillation (seed 004) and SemiDAViL's class-balanced
    # dynamic cross-entropy (seed 003)
    'cid':
    burn_in_row(
        'mean teacher + cross-image distillation',
        config='configs/viladiff/cid_effnetl0_camvid_1-8.py'),
    'dyce':
    burn_in_row(
        'mean teacher + DyCE',
        config='configs/viladiff/dyce_effnetl0_camvid_1-8.py'),
    # the two that raised the teacher's val mIoU over the mean teacher's
    # (seed 0: UniMatch 55.91, DyCE 57.12, mean teacher 55.22), combined
    'unimatch-dyce':
    burn_in_row(
        'mean teacher + UniMatch perturbations + DyCE',
        config='configs/viladiff/unimatch-dyce_effnetl0_camvid_1-8.py'),
    # the VL path on the same protocol: template captions (written from the
    # supervised model's predictions: they restate what it sees), and the
    # diagnostic oracle captions that read the label maps (issue 18: can
    # the fusion use text that carries information?)
    'meanteacher-vl-template':
    burn_in_row(
        'mean teacher + VL path, template captions',
        VL_BURN_IN,
        config=MEANTEACHER_VL,
        captioner='template'),
    'meanteacher-vl-oracle':
    burn_in_row(
        f'mean teacher + VL path, {ORACLE_LABEL}: classes, size, position',
        VL_BURN_IN,
        config=MEANTEACHER_VL,
        captioner='oracle'),
    'meanteacher-vl-oracle-regions':
    burn_in_row(
        f'mean teacher + VL path, {ORACLE_LABEL}: classes per 3x3 cell, '
        'small-object counts',
        VL_BURN_IN,
        config=MEANTEACHER_VL,
        captioner='oracle-regions'),
    # the same after the neck's own supervised phase with oracle captions
    'supervised-vl-oracle':
    Row('configs/viladiff/vl-sup_effnetl0_camvid_1-8.py',
        False,
        True,
        f'supervised + VL path (neck phase, the rest frozen), {ORACLE_LABEL}',
        NECK_PHASE,
        iters=NECK_ITERS,
        init_from='supervised',
        captioner='oracle'),
    # the VL model trained as the supervised row is (2000 iterations from
    # ImageNet, everything learning), with oracle captions from the first
    # step: text that carries information while the image features are
    # still weak; val selects by caption inference
    'supervised-vl-oracle-joint':
    Row('configs/viladiff/vl-sup_effnetl0_camvid_1-8.py',
        False,
        True,
        f'supervised with the VL path, trained together, {ORACLE_LABEL}',
        {'model.neck.infer_mode': 'caption'},
        captioner='oracle'),
    # the neck and the decode head (the backbone and auxiliary head frozen)
    # from the supervised model, each training crop captioned from its own
    # labels after the crop (3x3 regions: what the classes' presence and
    # where; benchmarks/presence_bound.py bounds it at +5.3 test mIoU on
    # the supervised model, presence alone at +1.4)
    'supervised-vl-oracle-crop':
    Row('configs/viladiff/vl-sup_effnetl0_camvid_1-8_crop-oracle.py',
        False,
        True,
        'supervised + VL path (neck and decode head phase), crop-consistent '
        f'{ORACLE_LABEL}: classes per 3x3 cell',
        NECK_HEAD_PHASE,
        iters=NECK_ITERS,
        init_from='supervised',
        captioner='oracle-regions'),
    # the same with one pooled text embedding per caption phrase ('bottom
    # left: car, road.') as the caption's tokens
    'supervised-vl-oracle-crop-phrases':
    Row('configs/viladiff/vl-sup_effnetl0_camvid_1-8_crop-oracle.py',
        False,
        True,
        'supervised + VL path (neck and decode head phase), crop-consistent '
        f'{ORACLE_LABEL}: classes per 3x3 cell, one token per phrase', {
            **NECK_HEAD_PHASE, 'model.promptor.caption_units': 'phrases'
        },
        iters=NECK_ITERS,
        init_from='supervised',
        captioner='oracle-regions'),
    # the same with the caption path's grounding loss (a classifier on the
    # attended text alone, trained against the labels): the attention is
    # taught to fetch each pixel's class from the caption directly
    'supervised-vl-oracle-crop-ground':
    Row('configs/viladiff/vl-sup_effnetl0_camvid_1-8_crop-oracle.py',
        False,
        True,
        'supervised + VL path (neck and decode head phase), crop-consistent '
        f'{ORACLE_LABEL}: classes per 3x3 cell, caption grounding loss', {
            **NECK_HEAD_PHASE, 'model.neck.ground_weight': 1.0
        },
        iters=NECK_ITERS,
        init_from='supervised',
        captioner='oracle-regions'),
    # ... and its grounding log-probabilities, scaled per class (from 0),
    # added to the decode head's logits (late fusion; in training, caption
    # inference and pseudo labels, never on the vision-only pyramid)
    'supervised-vl-oracle-crop-prior':
    Row('configs/viladiff/vl-sup_effnetl0_camvid_1-8_crop-oracle.py',
        False,
        True,
        'supervised + VL path (neck and decode head phase), crop-consistent '
        f'{ORACLE_LABEL}: classes per 3x3 cell, grounding loss and text prior',
        {
            **NECK_HEAD_PHASE, 'model.neck.ground_weight': 1.0,
            'model.neck.ground_prior': True
        },
        iters=NECK_ITERS,
        init_from='supervised',
        captioner='oracle-regions'),
    # the mean teacher from the grounded neck-and-head phase, every
    # training crop (labeled or not) captioned from its own labels, with
    # the text prior (PRIOR_BURN_IN); the teacher's pseudo labels read the
    # prior, the student's vision-only path learns from them
    'meanteacher-vl-oracle-crop-prior':
    oracle_prior_row('text prior'),
    # the same with the vision-only logits also pulled to the fused ones
    # (prior included) by a KL on every pixel of every crop: what the text
    # adds handed to the path inference uses without the pseudo labels'
    # threshold; weight 1, 4 (the KL was about a fifth of the vision
    # path's task loss at weight 1) and 8 (at weight 4 vision-only val was
    # still 0.69 below caption val)
    'meanteacher-vl-oracle-crop-prior-kl':
    oracle_prior_row(
        'text prior, KL from the fused to the vision-only '
        'logits', {'model.segmentor.vision_kl_weight': 1.0}),
    'meanteacher-vl-oracle-crop-prior-kl4':
    oracle_prior_row(
        'text prior, KL (weight 4) from the fused to the '
        'vision-only logits', {'model.segmentor.vision_kl_weight': 4.0}),
    'meanteacher-vl-oracle-crop-prior-kl8':
    oracle_prior_row(
        'text prior, KL (weight 8) from the fused to the '
        'vision-only logits', {'model.segmentor.vision_kl_weight': 8.0}),
    # weight 8 (val's choice) with the checkpoint chosen by what deployment
    # runs: val and test without text (caption val can peak at iteration
    # 100, before the KL has moved the vision path)
    'meanteacher-vl-oracle-crop-prior-kl8-vsel':
    oracle_prior_row(
        'text prior, KL (weight 8), checkpoint chosen on val without '
        'text', {
            'model.segmentor.vision_kl_weight': 8.0,
            'model.segmentor.neck.infer_mode': 'vision'
        }),
    # and 16: on seed 1 the checkpoint is kept at iteration 100, before
    # weight 8 has closed the gap (stopped at iteration 200: val without
    # text below weight 8's on both seeds; docs/benchmarks.md)
    'meanteacher-vl-oracle-crop-prior-kl16-vsel':
    oracle_prior_row(
        'text prior, KL (weight 16), checkpoint chosen on val without '
        'text', {
            'model.segmentor.vision_kl_weight': 16.0,
            'model.segmentor.neck.infer_mode': 'vision'
        }),
    'meanteacher-vl-oracle-neck':
    burn_in_row(
        f'mean teacher + VL path from its neck phase, {ORACLE_LABEL}',
        VL_BURN_IN,
        config=MEANTEACHER_VL,
        captioner='oracle',
        init_from='supervised-vl-oracle'),
    # diffusion refinement on the same protocol, after the refiner's
    # supervised phase (the supervised model frozen, the refiner trained)
    'supervised-diffrefine':
    Row('configs/viladiff/diffrefine-sup_effnetl0_camvid_1-8.py',
        False,
        False,
        'supervised + diffusion refiner (refiner phase, the rest frozen)',
        REFINER_PHASE,
        iters=REFINER_ITERS,
        init_from='supervised'),
    'meanteacher-diffrefine':
    burn_in_row(
        'mean teacher + diffusion refinement',
        config='configs/viladiff/meanteacher-diffrefine_effnetl0_camvid_1-8.py',
        init_from='supervised-diffrefine'),
    # attempt: both phases with the class-weighted refiner loss
    'supervised-diffrefine-cw':
    Row('configs/viladiff/diffrefine-sup_effnetl0_camvid_1-8.py',
        False,
        False,
        'supervised + diffusion refiner, class-weighted refiner loss '
        '(refiner phase)', {
            **REFINER_PHASE, 'model.decode_head.1.loss_decode':
            REFINER_CLASS_WEIGHTS
        },
        iters=REFINER_ITERS,
        init_from='supervised'),
    'meanteacher-diffrefine-cw':
    burn_in_row(
        'mean teacher + diffusion refinement, class-weighted refiner loss',
        {'model.segmentor.decode_head.1.loss_decode': REFINER_CLASS_WEIGHTS},
        config='configs/viladiff/meanteacher-diffrefine_effnetl0_camvid_1-8.py',
        init_from='supervised-diffrefine-cw'),
    'meanteacher-vl':
    Row('configs/viladiff/meanteacher-vl_effnetl0_camvid_1-8.py', True, True,
        'mean teacher + VL path'),
    'viladiff':
    burn_in_row(
        'ViLaDiff (full)',
        VL_BURN_IN,
        config='configs/viladiff/deeplabv3p_effnetl0_camvid_1-8.py',
        captioner='template',
        init_from='supervised-diffrefine'),
    # the text-guided decoders (issue 16) in place of DeepLabV3+'s head,
    # each trained as the supervised row (2000 iterations from ImageNet),
    # then the mean teacher from it. Measured against a short head phase on
    # the frozen supervised backbone (as REFINER_PHASE, 500 iterations): the
    # SemiVL head reached val 45.51 / test 37.79 on seed 0 (DeepLabV3+'s
    # head: 55.1 val), too far below to start a mean teacher from
    'supervised-semivl':
    Row('configs/viladiff/semivl-sup_effnetl0_camvid_1-8.py', False, False,
        'supervised, SemiVL head (45 labels)'),
    'semivl':
    burn_in_row(
        'mean teacher, SemiVL head',
        config='configs/viladiff/semivl_effnetl0_camvid_1-8.py',
        init_from='supervised-semivl'),
    'supervised-hiervl':
    Row('configs/viladiff/hiervl-sup_effnetl0_camvid_1-8.py', False, False,
        'supervised, HierVL-style head (45 labels)'),
    'hiervl':
    burn_in_row(
        'mean teacher, HierVL-style head',
        config='configs/viladiff/hiervl_effnetl0_camvid_1-8.py',
        init_from='supervised-hiervl'),
    'fully-supervised':
    Row('configs/baselines/deeplabv3p_effnetl0_camvid_full.py', False, False,
        'fully supervised (367 labels)'),
}


def metric_key(row: Row) -> str:
    """The val metric that selects checkpoints (TeacherStudentValLoop
    prefixes a semi-supervised model's metrics with ``teacher/``)."""
    return 'teacher/mIoU' if row.semi else 'mIoU'


def row_iters(row: Row, requested: Optional[int] = None) -> int:
    """The iterations a run of ``row`` trains: ``requested`` (``--iters``)
    if given, else the row's own budget, else :data:`DEFAULT_ITERS`."""
    if requested is not None:
        return requested
    return row.iters if row.iters is not None else DEFAULT_ITERS


def set_caption_file(node, cache_file: str) -> int:
    """Point every ``LoadCaption`` of a config at ``cache_file``.

    Args:
        node: a config (or any part of it: dicts, lists, tuples).
        cache_file (str): the caption JSONL file.

    Returns:
        int: how many LoadCaption transforms were changed.
    """
    count = 0
    if isinstance(node, dict):
        if node.get('type') in ('LoadCaption', 'mmseg.LoadCaption'):
            node['cache_file'] = cache_file
            count += 1
        for value in node.values():
            count += set_caption_file(value, cache_file)
    elif isinstance(node, (list, tuple)):
        for value in node:
            count += set_caption_file(value, cache_file)
    return count


def set_num_workers(cfg, num_workers: int) -> None:
    """Dataloader workers of the train, val and test loaders."""
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].num_workers = num_workers
        cfg[key].persistent_workers = num_workers > 0


def build_run_config(row: Row,
                     seed: int,
                     iters: int,
                     work_dir: str,
                     val_interval: int,
                     caption_file: Optional[str] = None,
                     num_workers: Optional[int] = None):
    """The row's config with the benchmark's overrides.

    Args:
        row (Row): the method.
        seed (int): ``randomness.seed``.
        iters (int): training iterations (PolyLR ends there too; a
            warm-up longer than a short run is cut to half of it).
        work_dir (str): the run's work dir.
        val_interval (int): iterations between validations (and
            checkpoints).
        caption_file (str, optional): caption JSONL for every LoadCaption;
            required when ``row.captions``.
        num_workers (int, optional): dataloader workers (default: the
            config's).

    Returns:
        Config: ready to dump and train.
    """
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, row.config))
    if row.options:
        cfg.merge_from_dict(row.options)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed)
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = val_interval
    warmup_end = min(
        (s['end'] for s in cfg.param_scheduler if s['type'] != 'PolyLR'),
        default=0)
    if warmup_end >= iters:
        warmup_end = max(1, iters // 2)
    for scheduler in cfg.param_scheduler:
        if scheduler['type'] == 'PolyLR':
            scheduler['begin'] = min(scheduler.get('begin', 0), warmup_end)
            scheduler['end'] = iters
        else:
            scheduler['end'] = min(scheduler['end'], warmup_end)
    checkpoint = cfg.default_hooks.checkpoint
    checkpoint.interval = val_interval
    checkpoint.save_best = metric_key(row)
    checkpoint.rule = 'greater'
    logger = cfg.default_hooks.logger
    logger.interval = min(logger.get('interval', 50), val_interval)
    if row.semi and cfg.model.get('semi_test_cfg',
                                  {}).get('predict_on') != 'teacher':
        raise BenchmarkError(f'{row.config}: the benchmark selects and tests '
                             "the teacher; semi_test_cfg.predict_on must be "
                             "'teacher'")
    if row.captions:
        if caption_file is None:
            raise BenchmarkError(f'{row.config} needs a caption file')
        if set_caption_file(cfg._cfg_dict, caption_file) == 0:
            raise BenchmarkError(f'{row.config} has no LoadCaption to point '
                                 'at the caption file')
    if num_workers is not None:
        set_num_workers(cfg, num_workers)
    return cfg
