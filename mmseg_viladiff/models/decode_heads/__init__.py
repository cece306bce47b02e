from .mixed_noise import (alpha_bar_schedule, corrupt_mask, edge_band,
                          flip_classes, flip_probability, perturb_features,
                          reverse_step)

__all__ = [
    'alpha_bar_schedule', 'corrupt_mask', 'edge_band', 'flip_classes',
    'flip_probability', 'perturb_features', 'reverse_step'
]
