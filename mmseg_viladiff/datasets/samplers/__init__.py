from .labeled_unlabeled_sampler import LabeledUnlabeledSampler

__all__ = ['LabeledUnlabeledSampler']
