from .bn_stats import frozen_bn_stats
from .caption_mixing import MIX_CAPTION_MODES, mix_captions, source_map
from .cascade import (cascade_logits, head_logits, link_cascade_heads,
                      load_plain_into_first_head)
from .class_weight_off import class_weights_off
from .class_thresholds import (confidence_histogram, histogram_quantile,
                               update_class_thresholds)
from .cutmix import cutmix, random_box_masks
from .dense_clip_guidance import (DEFAULT_DENSE_GUIDANCE, DenseCLIPGuidance,
                                  check_dense_guidance_cfg, confident_labels,
                                  dense_guidance_loss)
from .edge_band_weights import EdgeBandPixelWeights
from .feature_distill import FeatureDistiller
from .feature_perturbation import feature_dropout
from .maskclip import maskclip_embeddings
from .ramps import linear_decay, sigmoid_rampup
from .recorded_logits import recorded_seg_logits
from .refined_pseudo_labels import REFINED_CONFIDENCE_MODES, select_refined

__all__ = [
    'frozen_bn_stats', 'head_logits', 'cascade_logits', 'link_cascade_heads',
    'load_plain_into_first_head', 'class_weights_off', 'confidence_histogram',
    'histogram_quantile', 'update_class_thresholds', 'cutmix',
    'random_box_masks', 'EdgeBandPixelWeights', 'FeatureDistiller',
    'feature_dropout', 'sigmoid_rampup', 'MIX_CAPTION_MODES', 'mix_captions',
    'source_map', 'REFINED_CONFIDENCE_MODES', 'select_refined',
    'DEFAULT_DENSE_GUIDANCE', 'DenseCLIPGuidance', 'check_dense_guidance_cfg',
    'confident_labels', 'dense_guidance_loss', 'maskclip_embeddings',
    'linear_decay', 'recorded_seg_logits'
]
