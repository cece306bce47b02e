"""Run the same configs on GPU clusters and on CPU-only machines."""
import gc
import os

import torch
import torch.distributed as dist
from mmengine.logging import print_log


def _replace_sync_bn(cfg) -> int:
    """Turn every ``norm_cfg`` of type SyncBN into BN in place; count them."""
    count = 0
    if isinstance(cfg, dict):
        if cfg.get('type') in ('SyncBN', 'MMSyncBN'):
            cfg['type'] = 'BN'
            count += 1
        for value in cfg.values():
            count += _replace_sync_bn(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            count += _replace_sync_bn(value)
    return count


def adapt_cfg_to_device(cfg, launcher: str = 'none') -> None:
    """Adjust a config in place for machines without CUDA.

    On CPU: SyncBN becomes BN (SyncBatchNorm has no CPU kernel; each process
    keeps its own statistics), the distributed backend becomes gloo, and DDP
    is built without ``device_ids``. With CUDA the config is left untouched.

    Args:
        cfg (Config): full config.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
    """
    if torch.cuda.is_available():
        return
    replaced = _replace_sync_bn(cfg.model)
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = \
        'gloo'
    if launcher != 'none':
        # the settings mmengine uses for its default GPU wrapper
        wrapper = cfg.get('model_wrapper_cfg') or dict(
            type='MMDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
        wrapper['device_ids'] = None
        cfg.model_wrapper_cfg = wrapper
    print_log(
        f'no CUDA device: running on CPU ({replaced} SyncBN -> BN, '
        'distributed backend gloo)',
        logger='current')


def init_cpu_distributed(launcher: str) -> None:
    """Start the gloo process group for ``--launcher pytorch`` on CPU.

    mmengine's launcher calls ``torch.cuda.set_device``, which fails without
    a GPU; once the group exists, the Runner uses it as it is.
    """
    if launcher != 'pytorch' or torch.cuda.is_available() or \
            dist.is_initialized():
        return
    dist.init_process_group(
        backend='gloo',
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']))


def close_distributed() -> None:
    """Tear down the process group after a run, on every rank together.

    A gloo group that outlives the interpreter's shutdown aborts the rank
    ("terminate called without an active exception") after the work is done
    and saved: its worker threads release tensors once Python is gone.
    ``destroy_process_group`` alone does not free it while the finished
    Runner's DDP wrapper still holds it, and a Runner is only freed by the
    cycle collector; so: a barrier, the collector, then the destroy, which
    now drops the group's last reference. Call it after the Runner's last
    use, with no name bound to it.
    """
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        gc.collect()
        dist.destroy_process_group()
