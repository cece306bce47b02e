"""Captions of CutMix-ed samples: the source map travels with the pixels,
and a mixed sample reads the captions of every image it shows."""
import pytest
import torch
from mmseg.structures import SegDataSample

from mmseg_viladiff.models.utils import cutmix, mix_captions, source_map


def samples(*captions):
    return [SegDataSample(metainfo=dict(caption=c)) for c in captions]


def test_source_map_follows_the_pasted_pixels():
    g = torch.Generator().manual_seed(0)
    images = torch.arange(3.).view(3, 1, 1, 1).expand(3, 1, 16, 16)
    labels = torch.zeros(3, 16, 16, dtype=torch.long)
    mixed, (sources, ), masks = cutmix(images, (source_map(labels), ), 1.0, g)
    # every pixel's source index is the sample its image value came from
    assert torch.equal(sources.float(), mixed[:, 0])
    assert all((sources[i][~masks[i]] == i).all() for i in range(3))
    assert all(masks[i].any() and (sources[i][masks[i]] != i).all()
               for i in range(3))


def test_mixed_sample_reads_both_captions_own_first():
    batch = samples('a road and sky', 'two cars', 'a pole')
    sources = source_map(torch.zeros(3, 8, 8))
    sources[0, :2, :2] = 1  # sample 0 shows a box of sample 1
    out = mix_captions(batch, sources)
    assert out[0].metainfo['caption'] == ('a road and sky', 'two cars')
    assert out[1] is batch[1] and out[2] is batch[2]  # not mixed
    assert batch[0].metainfo['caption'] == 'a road and sky'  # untouched
    # 'own' keeps the sample's own caption
    assert mix_captions(batch, sources, 'own') is batch


def test_empty_repeated_and_nested_captions():
    batch = samples(('a', 'b'), '', 'b')
    sources = source_map(torch.zeros(3, 4, 4))
    sources[0, 0, 0], sources[0, 0, 1] = 1, 2
    sources[1, 0, 0] = 2
    out = mix_captions(batch, sources)
    assert out[0].metainfo['caption'] == ('a', 'b')  # '' and 'b' again
    assert out[1].metainfo['caption'] == ('b', )  # own caption empty


def test_samples_without_captions_and_bad_mode():
    plain = [SegDataSample(metainfo=dict(img_shape=(4, 4)))] * 2
    sources = source_map(torch.zeros(2, 4, 4)).flip(0)
    assert mix_captions(plain, sources) is plain
    with pytest.raises(ValueError, match='mix_captions'):
        mix_captions(samples('a'), sources[:1], 'concat')
