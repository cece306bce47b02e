from .calibration import fit_temperature
from .class_text import (CONCEPT_POOLINGS, build_class_promptor, concept_index,
                         max_over_concepts)
from .edge_aware_mix_diffusion_head import EdgeAwareMixDiffusionHead
from .mixed_noise import (alpha_bar_schedule, corrupt_mask, edge_band,
                          flip_classes, flip_probability, mix_mask,
                          perturb_features, perturb_features_vp, reverse_step,
                          unit_rms)
from .semantic_query_head import SemanticQueryHead
from .vl_guided_head import VLGuidedHead

__all__ = [
    'CONCEPT_POOLINGS', 'SemanticQueryHead', 'VLGuidedHead',
    'build_class_promptor', 'concept_index', 'max_over_concepts',
    'EdgeAwareMixDiffusionHead', 'alpha_bar_schedule', 'corrupt_mask',
    'edge_band', 'fit_temperature', 'flip_classes', 'flip_probability',
    'mix_mask', 'perturb_features', 'perturb_features_vp', 'reverse_step',
    'unit_rms'
]
