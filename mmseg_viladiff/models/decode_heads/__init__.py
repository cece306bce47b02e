from .calibration import fit_temperature
from .edge_aware_mix_diffusion_head import EdgeAwareMixDiffusionHead
from .mixed_noise import (alpha_bar_schedule, corrupt_mask, edge_band,
                          flip_classes, flip_probability, mix_mask,
                          perturb_features, perturb_features_vp, reverse_step,
                          unit_rms)

__all__ = [
    'EdgeAwareMixDiffusionHead', 'alpha_bar_schedule', 'corrupt_mask',
    'edge_band', 'fit_temperature', 'flip_classes', 'flip_probability',
    'mix_mask', 'perturb_features', 'perturb_features_vp', 'reverse_step',
    'unit_rms'
]
