"""Prompt-guided captions for every image of a dataset, in a JSONL cache.

``tools/generate_captions.py`` runs this package; the
:class:`~mmseg_viladiff.datasets.transforms.LoadCaption` transform reads its
output. ``transformers`` is imported only when :class:`HFCaptioner` is
built.
"""
from .caption_file import (RECORD_KEYS, CaptionWriter, image_key, make_record,
                           merge_captions, read_captions, read_records,
                           repair_tail, write_captions)
from .captioners import (HFCaptioner, TemplateCaptioner, default_prompt,
                         presence_caption)
from .generation import (caption_images, find_shard_files, load_images,
                         merge_shards, parse_shard, shard_file, shard_items,
                         wait_for_shards)
from .image_sources import (IMAGE_SUFFIXES, ImageItem, ImageSet,
                            images_from_config, images_from_folder)
from .oracle import (ORACLE_VARIANTS, ORACLE_WARNING, OracleCaptioner,
                     read_label_map)

__all__ = [
    'CaptionWriter', 'HFCaptioner', 'IMAGE_SUFFIXES', 'ImageItem', 'ImageSet',
    'RECORD_KEYS', 'TemplateCaptioner', 'caption_images', 'default_prompt',
    'find_shard_files', 'image_key', 'images_from_config',
    'images_from_folder', 'load_images', 'make_record', 'merge_captions',
    'merge_shards', 'ORACLE_VARIANTS', 'ORACLE_WARNING', 'OracleCaptioner',
    'parse_shard', 'presence_caption', 'read_captions', 'read_label_map',
    'read_records', 'repair_tail', 'shard_file', 'shard_items',
    'wait_for_shards', 'write_captions'
]
