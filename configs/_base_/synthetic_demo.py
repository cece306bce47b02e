# The embedded demo's data and segmentor (`python tools/make_synthetic_data.py`
# writes the data; training takes a few minutes on a CPU). The demo configs
# inherit the CamVid configs and take these pieces instead of CamVid's.
synthetic_train = dict(
    type='SyntheticShapesDataset',
    data_root='data/synthetic',
    data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'))
val_set = dict(
    synthetic_train,
    data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
    pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs')
    ])
# Merged into the CamVid segmentor: the synthetic shapes keep the demo's own
# settings, not the CamVid recipe (output stride 32, plain cross-entropy
# instead of the class-weighted losses, the default ASPP rates), 4 classes,
# 96x96 images.
synthetic_segmentor = dict(
    data_preprocessor=dict(size=(96, 96)),
    backbone=dict(strides=None, dilations=None),
    decode_head=dict(
        num_classes=4,
        dilations=(1, 6, 12, 18),
        loss_decode=dict(
            _delete_=True, type='CrossEntropyLoss', loss_weight=1.0)),
    auxiliary_head=dict(
        num_classes=4,
        loss_decode=dict(
            _delete_=True, type='CrossEntropyLoss', loss_weight=0.4)))
