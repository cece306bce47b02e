# Pascal VOC 2012 + SBD augmented set (10582 train images) in MMSeg's layout,
# restricted to the 1/16 labeled partition (662 images) written by
# `python tools/make_splits.py` (or any partition file in the common
# `image label` or basename formats) under data_root/splits/1-16/.
_base_ = 'mmseg::_base_/datasets/pascal_voc12_aug.py'

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PartitionDataset',
        dataset=dict(
            type='ConcatDataset',
            datasets=[_base_.dataset_train, _base_.dataset_aug]),
        split_file='splits/1-16/labeled.txt'))
