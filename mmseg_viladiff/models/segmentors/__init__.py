from .semi_encoder_decoder import DEFAULT_SEMI_TRAIN_CFG, SemiEncoderDecoder
from .vl_encoder_decoder import (VLCascadeEncoderDecoder, VLEncoderDecoder,
                                 VLSegmentorMixin)

__all__ = [
    'DEFAULT_SEMI_TRAIN_CFG', 'SemiEncoderDecoder', 'VLCascadeEncoderDecoder',
    'VLEncoderDecoder', 'VLSegmentorMixin'
]
