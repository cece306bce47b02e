from .checkpoint import SAFE_GLOBALS, register_safe_globals
from .hooks import PredictionVisualizationHook, SafeCheckpointHook

register_safe_globals()

__all__ = [
    'PredictionVisualizationHook', 'SAFE_GLOBALS', 'SafeCheckpointHook',
    'register_safe_globals'
]
