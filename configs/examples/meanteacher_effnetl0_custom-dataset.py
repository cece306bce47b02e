# TEMPLATE: mean teacher on your own dataset. Copy this file, change the
# lines under "# EDIT" and train. Walk-through: docs/custom_dataset.md.
#
# Model and recipe are inherited from the CamVid mean teacher
# (configs/viladiff/meanteacher_effnetl0_camvid_1-8.py): DeepLabV3+ on the
# ImageNet-pretrained EfficientNet-Lite0 at output stride 16; each batch
# holds 8 labeled and 8 unlabeled crops; the EMA teacher labels the weak view
# of the unlabeled crops, the student learns from their strong view. Only
# the data is replaced here, with MMSeg's generic BaseSegDataset, so no
# dataset class has to be written.
#
# Layout under data_root (MMSeg's usual one):
#   img_dir/train/NAME.jpg  ann_dir/train/NAME.png  training images (masks
#                                                   needed for labeled ones)
#   img_dir/val/NAME.jpg    ann_dir/val/NAME.png    validation (and test)
#   splits/labeled.txt, splits/unlabeled.txt        from tools/make_splits.py
# A mask is a one-channel PNG whose pixel values are class indices 0..K-1
# in the order of `classes`; 255 marks pixels to ignore.
#
#   python tools/make_splits.py --img-dir data/my_dataset/img_dir/train \
#       --img-suffix .jpg --fraction 1/8 --out-dir data/my_dataset/splits
#   mkdir -p configs/my_dataset   # one folder below configs/, for _base_
#   cp THIS_FILE configs/my_dataset/meanteacher_effnetl0_my-dataset.py
#   python tools/train.py configs/my_dataset/meanteacher_effnetl0_my-dataset.py
_base_ = '../viladiff/meanteacher_effnetl0_camvid_1-8.py'

# EDIT: the folder that holds img_dir/, ann_dir/ and splits/
data_root = 'data/my_dataset'
# EDIT: one name per class, in the order of the mask values 0, 1, 2, ...
classes = ('background', 'road', 'car')
# EDIT (optional): one [R, G, B] per class, to paint results; [] = fixed
# random colours
palette = []
# EDIT: how image file names end (NAME.jpg -> '.jpg')
img_suffix = '.jpg'
# EDIT: how mask file names end (NAME.png -> '.png', NAME_mask.png ->
# '_mask.png')
seg_map_suffix = '.png'
# EDIT: True if mask value 0 means "unlabeled" and the classes are 1..K
# (as in ADE20K): 0 becomes 255 (ignored) and v becomes v - 1
reduce_zero_label = False
# EDIT: partition files, relative to data_root (or absolute), one image a
# line, written by tools/make_splits.py
labeled_split = 'splits/labeled.txt'
unlabeled_split = 'splits/unlabeled.txt'
# EDIT: images are resized to fit in this (width, height) box for testing,
# and to 0.5-2x of it for training
img_scale = (512, 512)
# EDIT: training crop (height, width): about 192-256 on a CPU, 512 on a GPU.
# The inherited ASPP dilations (1, 2, 4, 6) suit such small crops; for 512
# crops set model.segmentor.decode_head.dilations=(1, 6, 12, 18).
crop_size = (256, 256)
# Optional: per-class loss weights for rare classes. Train once as is, or
# run `python tools/class_weights.py YOUR_CONFIG --out FILE` (median
# frequency of the labeled masks) and give the FILE here. None: plain CE.
class_weight = None

num_classes = len(classes)
metainfo = dict(classes=classes, palette=palette)
# the training images; each partition below picks its own from them
train_set = dict(
    type='BaseSegDataset',
    data_root=data_root,
    data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
    img_suffix=img_suffix,
    seg_map_suffix=seg_map_suffix,
    reduce_zero_label=reduce_zero_label,
    metainfo=metainfo)
labeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    # stops on a mask value that is not a class, naming the mask file
    # (cost: one comparison per mask; delete the line to skip it)
    dict(type='CheckSegLabels', num_classes=num_classes),
    dict(
        type='RandomResize',
        scale=img_scale,
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='MultiViewPack', views=dict(sup=[])),
]
# unlabeled images: no mask is read; one crop gives a weak view (teacher)
# and a strong view (student) of the same pixels
unlabeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResize',
        scale=img_scale,
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='MultiViewPack',
        views=dict(
            unsup_weak=[], unsup_strong=[dict(type='StrongPhotometricAug')])),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegLabels', num_classes=num_classes),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    dataset=dict(datasets=[
        dict(
            type='PartitionDataset',
            dataset=dict(train_set, pipeline=labeled_pipeline),
            split_file=labeled_split),
        dict(
            type='PartitionDataset',
            dataset=dict(train_set, pipeline=unlabeled_pipeline),
            split_file=unlabeled_split,
            with_label=False),
    ]))
val_set = dict(
    train_set,
    data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
    pipeline=test_pipeline)
val_dataloader = dict(dataset=dict(_delete_=True, **val_set))
# tools/test.py evaluates on the validation images; point
# test_dataloader.dataset.data_prefix at a test split if you have one
test_dataloader = val_dataloader

data_preprocessor = dict(size=crop_size)
model = dict(
    segmentor=dict(
        data_preprocessor=data_preprocessor,
        decode_head=dict(
            num_classes=num_classes,
            loss_decode=dict(class_weight=class_weight)),
        auxiliary_head=dict(
            num_classes=num_classes,
            loss_decode=dict(class_weight=class_weight))))
# Inherited schedule: 2000 iterations (100 of warm-up, then poly decay to
# iteration 2000), validation and a checkpoint every 500, the best teacher
# mIoU kept. To train longer, change train_cfg.max_iters and the `end` of
# the second param_scheduler together.
