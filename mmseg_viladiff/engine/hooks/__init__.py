from .random_state_hook import RandomStateHook
from .safe_checkpoint_hook import SafeCheckpointHook
from .semi_mean_teacher_hook import SemiMeanTeacherHook, ema_update
from .visualization_hook import PredictionVisualizationHook

__all__ = [
    'PredictionVisualizationHook', 'RandomStateHook', 'SafeCheckpointHook',
    'SemiMeanTeacherHook', 'ema_update'
]
