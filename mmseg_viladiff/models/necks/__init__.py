from .vl_fusion_neck import INFER_MODES, VLFusionNeck

__all__ = ['INFER_MODES', 'VLFusionNeck']
