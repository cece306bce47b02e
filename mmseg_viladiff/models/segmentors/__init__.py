from .refine_cascade_encoder_decoder import RefineCascadeEncoderDecoder
from .semi_encoder_decoder import DEFAULT_SEMI_TRAIN_CFG, SemiEncoderDecoder
from .vl_encoder_decoder import (VLCascadeEncoderDecoder, VLEncoderDecoder,
                                 VLSegmentorMixin)

__all__ = [
    'DEFAULT_SEMI_TRAIN_CFG', 'RefineCascadeEncoderDecoder',
    'SemiEncoderDecoder', 'VLCascadeEncoderDecoder',
    'VLEncoderDecoder', 'VLSegmentorMixin'
]
