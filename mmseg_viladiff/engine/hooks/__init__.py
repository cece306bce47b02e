from .safe_checkpoint_hook import SafeCheckpointHook
from .visualization_hook import PredictionVisualizationHook

__all__ = ['PredictionVisualizationHook', 'SafeCheckpointHook']
