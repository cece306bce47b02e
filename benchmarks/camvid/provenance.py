"""Provenance of a result: the machine, the git commit and the torch
version it ran with."""
import os
import platform
import subprocess

from .paths import ROOT


def machine_info() -> dict:
    """CPU model (``/proc/cpuinfo``), core count, platform."""
    cpu = platform.processor() or 'unknown'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return dict(cpu=cpu, cores=os.cpu_count(), platform=platform.platform())


def git_commit() -> dict:
    """HEAD's commit and whether tracked files differ from it."""

    def git(*args):
        return subprocess.run(['git', '--no-optional-locks', *args],
                              cwd=ROOT,
                              capture_output=True,
                              text=True).stdout.strip()

    return dict(
        commit=git('rev-parse', 'HEAD') or None,
        dirty=bool(git('status', '--porcelain', '--untracked-files=no')))


def torch_version() -> str:
    import torch
    return torch.__version__
