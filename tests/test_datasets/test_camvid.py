import numpy as np
from mmseg.datasets.transforms import LoadAnnotations
from PIL import Image

from mmseg_viladiff.datasets import CamVidDataset, PartitionDataset


def _camvid(root, split):
    return dict(
        type='CamVidDataset',
        data_root=root,
        ann_file=f'{split}.txt',
        data_prefix=dict(img_path=split, seg_map_path=f'{split}annot'),
        pipeline=[])


def test_camvid_sizes_and_metainfo(camvid_root):
    sizes = {}
    for split in ('train', 'val', 'test'):
        sizes[split] = len(
            CamVidDataset(
                **{
                    k: v
                    for k, v in _camvid(camvid_root, split).items()
                    if k != 'type'
                }))
    assert sizes == dict(train=367, val=101, test=233)
    meta = CamVidDataset.METAINFO
    assert len(meta['classes']) == 11 and len(meta['palette']) == 11
    assert meta['classes'][8] == 'car'


def test_camvid_unlabelled_becomes_ignore(camvid_root):
    ds = CamVidDataset(**{
        k: v
        for k, v in _camvid(camvid_root, 'train').items() if k != 'type'
    })
    assert len(ds.metainfo['palette']) == 11
    loader = LoadAnnotations()
    seen = set()
    for i in range(0, 367, 40):
        info = ds.get_data_info(i)
        raw = np.array(Image.open(info['seg_map_path']))
        out = loader(dict(info, seg_fields=[]))['gt_seg_map']
        assert ((raw == 11) == (out == 255)).all()
        assert (out[raw < 11] == raw[raw < 11]).all()
        seen |= set(np.unique(out).tolist())
    assert 255 in seen and seen <= set(range(11)) | {255}


def test_camvid_partitions(camvid_root):
    for part, (n_lab, n_unl) in {
            '1-8': (45, 322),
            '1-4': (91, 276),
            '1-2': (183, 184)
    }.items():
        lab = PartitionDataset(
            _camvid(camvid_root, 'train'), f'splits/{part}/labeled.txt')
        unl = PartitionDataset(
            _camvid(camvid_root, 'train'),
            f'splits/{part}/unlabeled.txt',
            with_label=False)
        assert (len(lab), len(unl)) == (n_lab, n_unl)
        lab_imgs = {lab.get_data_info(i)['img_path'] for i in range(n_lab)}
        unl_imgs = {unl.get_data_info(i)['img_path'] for i in range(n_unl)}
        assert not lab_imgs & unl_imgs
