from .checkpoint import SAFE_GLOBALS, register_safe_globals
from .hooks import (PredictionVisualizationHook, RandomStateHook,
                    SafeCheckpointHook, SemiMeanTeacherHook, ema_update)
from .runner import TeacherStudentValLoop

register_safe_globals()

__all__ = [
    'PredictionVisualizationHook', 'RandomStateHook', 'SAFE_GLOBALS',
    'SafeCheckpointHook', 'SemiMeanTeacherHook', 'TeacherStudentValLoop',
    'ema_update', 'register_safe_globals'
]
