"""Every config in configs/ builds its model and runs one forward pass."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from conftest import REPO_ROOT
from helpers import save_tiny_clip
from mmengine.config import Config
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules

from mmseg_viladiff.utils import adapt_cfg_to_device

CONFIGS = sorted(
    glob.glob(osp.join(REPO_ROOT, 'configs', 'viladiff', '*.py')) +
    glob.glob(osp.join(REPO_ROOT, 'configs', 'baselines', '*.py')) +
    glob.glob(osp.join(REPO_ROOT, 'configs', 'examples', '*.py')))


def test_configs_found():
    names = {osp.relpath(c, osp.join(REPO_ROOT, 'configs')) for c in CONFIGS}
    assert {
        'viladiff/deeplabv3p_r101_voc_1-16.py',
        'viladiff/deeplabv3p_r50_voc_1-16.py',
        'viladiff/deeplabv3p_effnetl0_camvid_1-8.py',
        'viladiff/deeplabv3p_effnetl0_synthetic.py',
        'viladiff/meanteacher_r101_voc_1-16.py',
        'viladiff/meanteacher-vl_r101_voc_1-16.py',
        'viladiff/meanteacher_effnetl0_camvid_1-8.py',
        'viladiff/meanteacher-vl_effnetl0_camvid_1-8.py',
        'viladiff/meanteacher_effnetl0_camvid_1-8_diag.py',
        'viladiff/meanteacher_effnetl0_synthetic.py',
        'viladiff/meanteacher-diffrefine_effnetl0_camvid_1-8.py',
        'viladiff/meanteacher-diffrefine_effnetl0_camvid_1-8_diag.py',
        'viladiff/cid_effnetl0_camvid_1-8.py',
        'viladiff/cid_r101_voc_1-16.py',
        'viladiff/dyce_effnetl0_camvid_1-8.py',
        'viladiff/dyce_r101_voc_1-16.py',
        'viladiff/unimatch_effnetl0_camvid_1-8.py',
        'viladiff/unimatch_r101_voc_1-16.py',
        'viladiff/unimatch-dyce_effnetl0_camvid_1-8.py',
        'viladiff/semivl_effnetl0_camvid_1-8.py',
        'viladiff/semivl_r101_voc_1-16.py',
        'viladiff/hiervl_effnetl0_camvid_1-8.py',
        'viladiff/hiervl_r101_voc_1-16.py',
        'baselines/deeplabv3p_r101_voc_1-16.py',
        'baselines/deeplabv3p_r50_voc_1-16.py',
        'baselines/deeplabv3p_effnetl0_camvid_1-8.py',
        'baselines/deeplabv3p_effnetl0_camvid_full.py',
        'baselines/deeplabv3p_effnetl0_synthetic.py',
        'examples/meanteacher_effnetl0_custom-dataset.py',
    } <= names


@pytest.fixture(scope='module')
def tiny_clip(tmp_path_factory):
    return save_tiny_clip(str(tmp_path_factory.mktemp('clip')))


def offline_text(cfg, tiny_clip, cache_dir):
    """CLIP weights cannot be had offline: a tiny local CLIP stands in for
    the GPU configs' text encoder (the neck's text_dim follows; heads that
    hold a promptor read its dim themselves) and for the CLIP of the dense
    guidance."""
    guidance = cfg.model.get('semi_train_cfg', {}).get('dense_guidance')
    if guidance is not None:
        guidance.update(
            model=tiny_clip,
            pretrained=None,
            allow_download=False,
            cache_dir=cache_dir)
    segmentor = cfg.model.get('segmentor', cfg.model)
    heads = segmentor.decode_head
    heads = heads if isinstance(heads, list) else [heads]
    for owner in [segmentor] + heads:
        promptor = owner.get('promptor')
        if promptor is None:
            continue
        promptor.cache_dir = cache_dir
        if promptor.text_encoder.type == 'OpenCLIPTextEncoder':
            promptor.text_encoder = dict(
                type='OpenCLIPTextEncoder', model_name=tiny_clip)
            if owner is segmentor:
                segmentor.neck.text_dim = 32


@pytest.mark.parametrize(
    'path',
    CONFIGS,
    ids=lambda p: osp.relpath(p, osp.join(REPO_ROOT, 'configs')))
def test_config_builds_and_forwards(path, tiny_clip, tmp_path):
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(path)
    offline_text(cfg, tiny_clip, str(tmp_path))
    assert 'mmseg_viladiff' in cfg.custom_imports['imports']
    adapt_cfg_to_device(cfg)
    model = MODELS.build(cfg.model)  # weights are not loaded: no download
    model.eval()
    segmentor = cfg.model.get('segmentor', cfg.model)
    head = segmentor.decode_head  # a list for CascadeEncoderDecoder
    num_classes = (head[-1] if isinstance(head, list) else head).num_classes
    with torch.no_grad():
        logits = model(torch.rand(1, 3, 64, 64), mode='tensor')
    assert logits.shape == (1, num_classes, 64 // 4, 64 // 4)
    assert torch.isfinite(logits).all()


def test_backbone_swap_changes_only_the_backbone():
    r101 = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/viladiff/deeplabv3p_r101_voc_1-16.py'))
    r50 = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/viladiff/deeplabv3p_r50_voc_1-16.py'))
    seg101, seg50 = r101.model.segmentor, r50.model.segmentor
    assert (seg101.backbone.depth, seg50.backbone.depth) == (101, 50)
    seg50.backbone.depth = 101
    seg50.pretrained = seg101.pretrained
    assert r50.model.to_dict() == r101.model.to_dict()
    assert r50.train_dataloader.to_dict() == r101.train_dataloader.to_dict()


@pytest.mark.parametrize('dataset', ['r101_voc_1-16', 'effnetl0_camvid_1-8'])
def test_full_method_configs(dataset):
    """The flagship configs are mean teacher + VL path + diffusion head, and
    differ from the mean-teacher + VL configs only by the diffusion head."""
    full = Config.fromfile(
        osp.join(REPO_ROOT, f'configs/viladiff/deeplabv3p_{dataset}.py'))
    vl = Config.fromfile(
        osp.join(REPO_ROOT, f'configs/viladiff/meanteacher-vl_{dataset}.py'))
    seg = full.model.segmentor
    assert full.model.type == 'SemiEncoderDecoder'
    assert seg.type == 'VLCascadeEncoderDecoder'
    assert seg.promptor.type == 'CaptionPromptor'
    assert seg.neck.type == 'VLFusionNeck'
    assert seg.decode_head[1].type == 'EdgeAwareMixDiffusionHead'
    assert full.model.semi_train_cfg.refine_pseudo_labels
    assert seg.decode_head[0] == vl.model.segmentor.decode_head
    assert full.train_dataloader == vl.train_dataloader
    labeled, unlabeled = full.train_dataloader.dataset.datasets
    for part in (labeled, unlabeled):
        leaf = part.dataset
        while 'datasets' in leaf:  # VOC: train + aug
            leaf = leaf.datasets[-1]
        assert leaf.pipeline[0].type == 'LoadImageFromFile'
        assert leaf.pipeline[1].type == 'LoadCaption'
        assert leaf.pipeline[1].on_missing == 'error'
        assert 'caption' in leaf.pipeline[-1].pack.meta_keys
    # test: image loader first (inference_model swaps it for arrays), and
    # images without a caption stay uncaptioned
    for cfg in (full, vl):
        assert [t.type for t in cfg.test_pipeline[:2]
                ] == ['LoadImageFromFile', 'LoadCaption']
        assert cfg.test_pipeline[1].on_missing == 'skip'
        assert cfg.test_dataloader.dataset.pipeline == cfg.test_pipeline
        assert 'caption' in cfg.test_pipeline[-1].meta_keys
    encoder = seg.promptor.text_encoder.type
    assert encoder == ('OpenCLIPTextEncoder'
                       if 'voc' in dataset else 'HFTextEncoder')


@pytest.mark.parametrize(
    'name',
    ['meanteacher_r101_voc_1-16.py', 'meanteacher_effnetl0_camvid_1-8.py'])
def test_mean_teacher_configs_wrap_their_supervised_base(name):
    semi = Config.fromfile(osp.join(REPO_ROOT, 'configs/viladiff', name))
    base = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/baselines',
                 name).replace('meanteacher_r101', 'deeplabv3p_r101').replace(
                     'meanteacher_effnetl0', 'deeplabv3p_effnetl0'))
    assert semi.model.type == 'SemiEncoderDecoder'
    assert semi.model.segmentor.to_dict() == base.model.to_dict()
    assert semi.val_cfg.type == 'TeacherStudentValLoop'
    hooks = [h['type'] for h in semi.custom_hooks]
    assert 'SemiMeanTeacherHook' in hooks and 'SafeCheckpointHook' in hooks
    labeled, unlabeled = semi.train_dataloader.dataset.datasets
    assert labeled.split_file.endswith('labeled.txt')
    assert unlabeled.split_file.endswith('unlabeled.txt')
    assert unlabeled.with_label is False


def _unlabeled_leaves(cfg):
    """The datasets (with pipelines) of the unlabeled partition."""
    inner = cfg.train_dataloader.dataset.datasets[1].dataset
    return inner.datasets if inner.type == 'ConcatDataset' else [inner]


#: the semi_train_cfg keys the UniMatch configs set
UNIMATCH_KEYS = ('sup_weight', 'unsup_weight', 'strong_views', 'fp_weight',
                 'fp_dropout')


@pytest.mark.parametrize('dataset', ['effnetl0_camvid_1-8', 'r101_voc_1-16'])
def test_unimatch_configs_are_the_mean_teacher_plus_perturbations(dataset):
    """Same model, data, schedule and hooks as the mean teacher; UniMatch's
    loss weights; one more strong view in every unlabeled pipeline."""
    semi = Config.fromfile(
        osp.join(REPO_ROOT, f'configs/viladiff/unimatch_{dataset}.py'))
    base = Config.fromfile(
        osp.join(REPO_ROOT, f'configs/viladiff/meanteacher_{dataset}.py'))
    train, base_train = semi.model.semi_train_cfg, base.model.semi_train_cfg
    for key in set(train) | set(base_train):
        if key not in UNIMATCH_KEYS:
            assert train[key] == base_train[key], key
    assert {k: train[k] for k in UNIMATCH_KEYS} == dict(
        sup_weight=0.5,
        unsup_weight=0.25,
        strong_views=2,
        fp_weight=0.25,
        fp_dropout=0.5)
    semi.model.semi_train_cfg = base.model.semi_train_cfg
    assert semi.model.to_dict() == base.model.to_dict()
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg',
                'custom_hooks', 'val_cfg', 'val_dataloader'):
        assert semi[key] == base[key], key
    parts = semi.train_dataloader.dataset.datasets
    base_parts = base.train_dataloader.dataset.datasets
    assert parts[0] == base_parts[0]  # labeled
    for key in set(parts[1]) | set(base_parts[1]):  # unlabeled partition
        if key != 'dataset':
            assert parts[1][key] == base_parts[1][key], key
    leaves = _unlabeled_leaves(semi)
    assert len(leaves) == len(_unlabeled_leaves(base))
    for leaf, base_leaf in zip(leaves, _unlabeled_leaves(base)):
        assert leaf.pipeline[:-1] == base_leaf.pipeline[:-1]
        views = leaf.pipeline[-1].views
        assert views.unsup_strong2 == views.unsup_strong
        views.pop('unsup_strong2')
        assert leaf.pipeline[-1] == base_leaf.pipeline[-1]


def test_unimatch_strong_views_differ_in_colour_not_geometry():
    from mmseg.registry import TRANSFORMS
    cfg = Config.fromfile(
        osp.join(REPO_ROOT,
                 'configs/viladiff/unimatch_effnetl0_camvid_1-8.py'))
    pack = TRANSFORMS.build(_unlabeled_leaves(cfg)[0].pipeline[-1])
    rng = np.random.RandomState(0)
    img = rng.randint(0, 256, (48, 64, 3)).astype(np.uint8)
    np.random.seed(0)
    out = pack(dict(img=img, img_shape=img.shape[:2], ori_shape=(48, 64)))
    weak, s1, s2 = (out['inputs'][k]
                    for k in ('unsup_weak', 'unsup_strong', 'unsup_strong2'))
    assert weak.shape == s1.shape == s2.shape == (3, 48, 64)
    assert torch.equal(weak, torch.from_numpy(img).permute(2, 0, 1))
    assert not torch.equal(s1, weak) and not torch.equal(s2, weak)
    assert not torch.equal(s1, s2)
    assert out['inputs']['sup'] is None


@pytest.mark.parametrize('dataset', ['effnetl0_camvid_1-8', 'r101_voc_1-16'])
def test_peer_method_configs_are_deltas_of_the_mean_teacher(dataset):
    """cid_* adds only the distillation losses, dyce_* only swaps both
    heads' losses for DyCE and weights the pseudo labels; data, schedule
    and everything else stay the mean teacher's."""
    load = lambda algo: Config.fromfile(  # noqa: E731
        osp.join(REPO_ROOT, f'configs/viladiff/{algo}_{dataset}.py'))
    base, cid, dyce = load('meanteacher'), load('cid'), load('dyce')
    for cfg in (cid, dyce):
        for key in ('train_dataloader', 'val_dataloader', 'optim_wrapper',
                    'param_scheduler', 'train_cfg', 'custom_hooks'):
            assert cfg[key] == base[key], key
    semi = cid.model.semi_train_cfg
    assert [d.type for d in semi.pop('feature_distill')
            ] == ['RelationDistillLoss', 'StyleDistillLoss']
    assert semi.pop('feature_distill_level') == -1
    assert cid.model == base.model
    seg = dyce.model.segmentor
    num_classes = seg.decode_head.num_classes
    for head, weight in (('decode_head', 1.0), ('auxiliary_head', 0.4)):
        loss = seg[head].pop('loss_decode')
        assert loss.type == 'DynamicClassBalancedCELoss'
        assert loss.num_classes == num_classes
        assert loss.get('loss_weight', 1.0) == weight
        base.model.segmentor[head].pop('loss_decode')
    assert dyce.model.semi_train_cfg.pop('unsup_class_weight') is True
    base.model.semi_train_cfg.pop('unsup_class_weight', None)
    assert dyce.model == base.model


@pytest.mark.parametrize('dataset', ['effnetl0_camvid_1-8', 'r101_voc_1-16'])
@pytest.mark.parametrize('algo', ['semivl', 'hiervl'])
def test_vl_head_configs_only_swap_the_decode_head(algo, dataset):
    """semivl_* (and hiervl_*) are the mean teacher with another decode
    head: same loss, classes, data, schedule; class text from concepts.
    semivl on VOC (GPU) adds SemiVL's dense CLIP guidance; CPU configs have
    no CLIP image tower and leave it off."""
    load = lambda name: Config.fromfile(  # noqa: E731
        osp.join(REPO_ROOT, f'configs/viladiff/{name}_{dataset}.py'))
    base, cfg = load('meanteacher'), load(algo)
    guidance = cfg.model.semi_train_cfg.pop('dense_guidance', None)
    if algo == 'semivl' and 'voc' in dataset:
        assert guidance == dict(
            model='ViT-B-16',
            pretrained='openai',
            allow_download=True,
            vocabulary='voc',
            weight=0.1,
            temperature=100.0,
            threshold=0.9,
            cache_dir='work_dirs/text_cache')
    else:
        assert guidance is None
    for key in ('train_dataloader', 'val_dataloader', 'param_scheduler',
                'train_cfg', 'custom_hooks'):
        assert cfg[key] == base[key], key
    # hiervl clips gradients (its query decoder diverges at SGD's lr
    # without); nothing else of the optimiser changes
    clip = cfg.optim_wrapper.pop('clip_grad')
    assert clip == (dict(max_norm=1.0, norm_type=2)
                    if algo == 'hiervl' else base.optim_wrapper.clip_grad)
    base.optim_wrapper.pop('clip_grad')
    assert cfg.optim_wrapper == base.optim_wrapper
    head = cfg.model.segmentor.pop('decode_head')
    base_head = base.model.segmentor.pop('decode_head')
    assert cfg.model == base.model
    assert head.loss_decode == base_head.loss_decode
    assert head.num_classes == base_head.num_classes
    assert head.promptor.class_text == 'concepts'
    assert head.promptor.vocabulary == ('voc' if 'voc' in dataset else
                                        'camvid')
    assert head.promptor.text_encoder.type == (
        'OpenCLIPTextEncoder' if 'voc' in dataset else 'HFTextEncoder')


@pytest.mark.parametrize('sup, semi', [
    ('diffrefine-sup', 'meanteacher-diffrefine'),
    ('semivl-sup', 'semivl'),
    ('hiervl-sup', 'hiervl'),
])
def test_supervised_head_configs_are_their_mean_teachers_segmentor(
        sup, semi):
    """A head's supervised config (its phase before the mean teacher)
    trains exactly the segmentor its mean-teacher config wraps, with the
    supervised baseline's data and schedule."""
    load = lambda name: Config.fromfile(  # noqa: E731
        osp.join(REPO_ROOT, f'configs/viladiff/{name}_effnetl0_camvid_1-8.py'))
    sup_cfg, semi_cfg = load(sup), load(semi)
    base = Config.fromfile(
        osp.join(REPO_ROOT,
                 'configs/baselines/deeplabv3p_effnetl0_camvid_1-8.py'))
    assert sup_cfg.model == semi_cfg.model.segmentor
    assert sup_cfg.optim_wrapper == semi_cfg.optim_wrapper
    for key in ('train_dataloader', 'param_scheduler', 'train_cfg'):
        assert sup_cfg[key] == base[key], key


def test_vl_supervised_config_is_the_vl_mean_teachers_segmentor():
    """The VL neck's supervised phase (vl-sup) trains the segmentor that
    meanteacher-vl wraps, on the baseline's data and schedule with each
    image's caption loaded after the image and packed with it."""
    load = lambda name: Config.fromfile(osp.join(  # noqa: E731
        REPO_ROOT, 'configs', name))
    sup_cfg = load('viladiff/vl-sup_effnetl0_camvid_1-8.py')
    semi_cfg = load('viladiff/meanteacher-vl_effnetl0_camvid_1-8.py')
    base = load('baselines/deeplabv3p_effnetl0_camvid_1-8.py')
    assert sup_cfg.model == semi_cfg.model.segmentor
    for key in ('param_scheduler', 'train_cfg'):
        assert sup_cfg[key] == base[key], key
    pipelines = [
        sup_cfg.train_dataloader.dataset.dataset.pipeline,
        sup_cfg.val_dataloader.dataset.pipeline,
        sup_cfg.test_dataloader.dataset.pipeline
    ]
    for pipeline in pipelines:
        assert pipeline[1].type == 'LoadCaption'
        assert 'caption' in pipeline[-1].meta_keys
    assert pipelines[0][1].on_missing == 'error'
    # otherwise the baseline's pipeline, step for step
    assert [s.type for s in pipelines[0][2:-1]] == [
        s.type for s in base.train_dataloader.dataset.dataset.pipeline[1:-1]
    ]
