from .caption_promptor import CaptionPromptor

__all__ = ['CaptionPromptor']
