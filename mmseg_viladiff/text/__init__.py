"""Text side of the method: class vocabularies and prompts, frozen text
encoders and their embedding cache."""
from .embedding_cache import TextEmbeddingCache
from .text_encoders import (FrozenTextEncoder, HFTextEncoder,
                            OpenCLIPTextEncoder, TextEmbedding,
                            build_text_encoder, load_open_clip)
from .vocabularies import (CAPTION_TEMPLATE, PROMPT_TEMPLATES, VOCABULARIES,
                           ClassVocabulary, caption_prompt, class_prompts,
                           concept_prompts, get_vocabulary)

__all__ = [
    'CAPTION_TEMPLATE', 'ClassVocabulary', 'PROMPT_TEMPLATES', 'VOCABULARIES',
    'caption_prompt', 'class_prompts', 'concept_prompts', 'get_vocabulary',
    'FrozenTextEncoder', 'HFTextEncoder', 'OpenCLIPTextEncoder',
    'TextEmbedding', 'TextEmbeddingCache', 'build_text_encoder',
    'load_open_clip'
]
