from .checkpoint import SAFE_GLOBALS, register_safe_globals
from .hooks import SafeCheckpointHook

register_safe_globals()

__all__ = ['SAFE_GLOBALS', 'SafeCheckpointHook', 'register_safe_globals']
