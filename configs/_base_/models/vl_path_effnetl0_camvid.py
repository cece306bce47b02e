# The vision-language path of the CamVid configs (meanteacher-vl_*,
# vl-sup_*): vl_path_effnetl0.py's neck and MiniLM promptor, plus the caption
# file every pipeline reads through `load_caption`.
# Captions: `python tools/generate_captions.py CONFIG --backend template ...`
# writes `caption_file` (see README, "Captions").
_base_ = ['./vl_path_effnetl0.py', '../datasets/captions.py']

caption_file = 'work_dirs/captions/camvid_template.jsonl'
# Alignment loss on the similarity logits upsampled to the labels (192x192):
# nearest-downsampled to the 12x12 class level (stride 16), about half of
# the crops that hold a pole, pedestrian or bicyclist keep no label pixel
# of it (45 labeled images x 10 training crops: 54%, 57%, 44% keep one).
vl_neck = dict(align_resolution='label')
# Captions up to 160 MiniLM tokens: the diagnostic oracle captions take up
# to 143 (median 70 and 111 for the two variants) and the encoder's
# default 64 would cut their last, rarest classes; template captions are
# about 20 tokens, unchanged.
promptor = dict(text_encoder=dict(max_length=160))
load_caption = dict(
    type='LoadCaption',
    cache_file=caption_file,
    data_root='data/camvid',
    on_missing='error')
