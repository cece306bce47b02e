# Packing a sample's caption (set by the LoadCaption transform): the default
# meta keys of MMSeg's PackSegInputs plus 'caption'.
caption_meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
                     'pad_shape', 'scale_factor', 'flip', 'flip_direction',
                     'reduce_zero_label', 'caption')
