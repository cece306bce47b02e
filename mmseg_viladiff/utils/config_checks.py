"""Start-up checks and defaults the tools apply to a loaded config."""
from mmengine.logging import print_log

from .errors import ConfigError

#: hooks that keep Runner checkpoints loadable and resumes exact
CHECKPOINT_HOOKS = ('SafeCheckpointHook', 'RandomStateHook')


def ensure_checkpoint_hooks(cfg) -> None:
    """Add :data:`CHECKPOINT_HOOKS` to ``custom_hooks`` where a config
    (e.g. one written MMSeg-style, replacing the list) lacks them."""
    hooks = list(cfg.get('custom_hooks') or [])
    present = {h.get('type') for h in hooks}
    missing = [name for name in CHECKPOINT_HOOKS if name not in present]
    if missing:
        cfg.custom_hooks = hooks + [dict(type=name) for name in missing]
        print_log(f'added {missing} to custom_hooks', logger='current')


def check_semi_dataloader(cfg) -> None:
    """A ``LabeledUnlabeledSampler`` must fill whole dataloader batches."""
    loader = cfg.get('train_dataloader') or {}
    sampler = loader.get('sampler') or {}
    if sampler.get('type') != 'LabeledUnlabeledSampler':
        return
    if sampler.get('batch_size') != loader.get('batch_size'):
        raise ConfigError(
            f"train_dataloader.batch_size ({loader.get('batch_size')}) must "
            'equal train_dataloader.sampler.batch_size '
            f"({sampler.get('batch_size')}): the sampler yields one "
            'labeled+unlabeled batch at a time')
