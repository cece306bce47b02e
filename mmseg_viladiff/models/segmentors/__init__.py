from .semi_encoder_decoder import DEFAULT_SEMI_TRAIN_CFG, SemiEncoderDecoder

__all__ = ['DEFAULT_SEMI_TRAIN_CFG', 'SemiEncoderDecoder']
