from .class_balanced_cross_entropy import (ClassBalancedCrossEntropyLoss,
                                           load_class_weight)

__all__ = ['ClassBalancedCrossEntropyLoss', 'load_class_weight']
