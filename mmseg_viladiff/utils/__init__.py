from .class_weights import (class_weights_from_counts,
                            count_label_pixels)
from .config_checks import (CHECKPOINT_HOOKS, check_semi_dataloader,
                            ensure_checkpoint_hooks)
from .data_check import PREPARE_HINTS, check_data_paths
from .device import (adapt_cfg_to_device, close_distributed,
                     init_cpu_distributed)
from .errors import ConfigError, DataError
from .tool_config import exit_on_input_error, load_tool_config

__all__ = [
    'class_weights_from_counts', 'count_label_pixels',
    'exit_on_input_error', 'load_tool_config', 'CHECKPOINT_HOOKS',
    'check_semi_dataloader', 'ensure_checkpoint_hooks', 'ConfigError',
    'DataError', 'PREPARE_HINTS', 'adapt_cfg_to_device', 'check_data_paths',
    'init_cpu_distributed', 'close_distributed'
]
