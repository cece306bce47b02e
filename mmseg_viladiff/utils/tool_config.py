"""What tools/train.py and tools/test.py share: loading the config, and
turning start-up errors into one message."""
import os.path as osp
import sys
from typing import Callable, Optional

from mmengine.config import Config

from .errors import ConfigError, DataError


def load_tool_config(config: str, cfg_options: Optional[dict],
                     work_dir: Optional[str], launcher: str) -> Config:
    """Load ``config``, apply ``--cfg-options`` and choose the work dir
    (``--work-dir``, else the config's, else ``work_dirs/<config name>``)."""
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    return cfg


def error_message(error: Exception) -> str:
    """The message of ``error``. An error raised in a DataLoader worker
    reaches the main process as ``Caught DataError in DataLoader worker
    process 0. Original Traceback ...``: only its original message is
    kept."""
    text = str(error)
    marker = f'{type(error).__name__}: '
    if text.startswith('Caught ') and '\nOriginal Traceback' in text and \
            marker in text:
        return text[text.rindex(marker) + len(marker):].strip()
    return text


def exit_on_input_error(main: Callable[[], None]) -> None:
    """Run ``main``; a :class:`ConfigError` or :class:`DataError` (also
    from a DataLoader worker) prints ``error: <message>`` to stderr and exits
    with status 1."""
    try:
        main()
    except (ConfigError, DataError) as e:
        print(f'error: {error_message(e)}', file=sys.stderr)
        sys.exit(1)
