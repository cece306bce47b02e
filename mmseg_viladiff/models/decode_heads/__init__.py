from .edge_aware_mix_diffusion_head import EdgeAwareMixDiffusionHead
from .mixed_noise import (alpha_bar_schedule, corrupt_mask, edge_band,
                          flip_classes, flip_probability, perturb_features,
                          reverse_step)

__all__ = [
    'EdgeAwareMixDiffusionHead', 'alpha_bar_schedule', 'corrupt_mask',
    'edge_band', 'flip_classes', 'flip_probability', 'perturb_features',
    'reverse_step'
]
