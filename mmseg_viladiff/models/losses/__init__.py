from .class_balanced_cross_entropy import (ClassBalancedCrossEntropyLoss,
                                           load_class_weight)
from .cross_image_distillation import RelationDistillLoss, StyleDistillLoss
from .dynamic_class_balanced_ce import (DynamicClassBalancedCELoss,
                                        dyce_class_weight)

__all__ = [
    'ClassBalancedCrossEntropyLoss', 'load_class_weight',
    'RelationDistillLoss', 'StyleDistillLoss', 'DynamicClassBalancedCELoss',
    'dyce_class_weight'
]
