"""The JSONL caption cache: reading, appending, repairing, merging."""
import json
import os.path as osp

import pytest

from mmseg_viladiff.captioning import (RECORD_KEYS, CaptionWriter, image_key,
                                       make_record, merge_captions,
                                       read_captions, repair_tail)
from mmseg_viladiff.utils import DataError


def _rec(image, caption='a photo.', model='m'):
    return make_record(image, caption, 'hf', model, 'a photo of')


def _write_lines(path, lines, end='\n'):
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + end)


def test_writer_round_trip_appends_whole_lines(tmp_path):
    path = str(tmp_path / 'sub' / 'captions.jsonl')
    with CaptionWriter(path) as writer:
        writer.write([_rec('b.png', 'two'), _rec('a.png', 'one')])
    with open(path, 'rb') as f:
        first = f.read()
    with CaptionWriter(path) as writer:
        writer.write([_rec('c/d.png', 'three')])
        writer.write([])
    with open(path, 'rb') as f:
        data = f.read()
    assert data.startswith(first)  # earlier lines are never rewritten
    assert data.endswith(b'\n') and data.count(b'\n') == 3
    records = read_captions(path)
    assert list(records) == ['b.png', 'a.png', 'c/d.png']  # file order
    assert records['c/d.png']['caption'] == 'three'
    assert list(json.loads(data.splitlines()[0])) == list(RECORD_KEYS)


def test_reads_the_synthetic_dataset_captions(synthetic_root):
    records = read_captions(osp.join(synthetic_root, 'captions.jsonl'))
    assert len(records) == 20
    assert 'img_dir/train/train_0000.png' in records
    assert {r['captioner'] for r in records.values()} == \
        {'synthetic-ground-truth'}


@pytest.mark.parametrize(
    'bad, message',
    [('{"image": "x.png", "caption": ', 'not a JSON line'),
     ('{"image": "x.png", "caption": "c"}', "lacks key(s) ['captioner'"),
     ('{"image": "x.png", "caption": 3, "captioner": "hf", "model": null, '
      '"prompt": null}', '"caption" must be a string'),
     ('[1, 2]', 'a JSON object')])
def test_malformed_line_is_an_error_with_file_and_line(tmp_path, bad, message):
    path = str(tmp_path / 'c.jsonl')
    _write_lines(path,
                 [json.dumps(_rec('a.png')), bad,
                  json.dumps(_rec('b.png'))])
    with pytest.raises(DataError, match=r'c\.jsonl:2: ') as err:
        read_captions(path)
    assert message in str(err.value)


def test_duplicates_same_caption_ok_different_caption_error(tmp_path):
    path = str(tmp_path / 'c.jsonl')
    _write_lines(path, [
        json.dumps(_rec('a.png', 'x')),
        json.dumps(_rec('./a.png', 'x')),
    ])
    assert list(read_captions(path)) == ['a.png']
    _write_lines(path, [
        json.dumps(_rec('a.png', 'x')),
        json.dumps(_rec('b.png', 'y')),
        json.dumps(_rec('a.png', 'z')),
    ])
    with pytest.raises(DataError, match=r'c\.jsonl:3: .*at line 1'):
        read_captions(path)


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(DataError, match='caption file not found'):
        read_captions(str(tmp_path / 'none.jsonl'))


def test_truncated_final_line_is_dropped_then_repaired(tmp_path):
    path = str(tmp_path / 'c.jsonl')
    whole = json.dumps(_rec('a.png')) + '\n'
    cut = json.dumps(_rec('b.png'))[:25]  # a writer killed mid-line
    with open(path, 'w') as f:
        f.write(whole + cut)
    with pytest.warns(UserWarning, match=r'c\.jsonl:2: dropping a truncated'):
        assert list(read_captions(path)) == ['a.png']
    assert repair_tail(path)
    with open(path) as f:
        assert f.read() == whole
    assert not repair_tail(path)
    # the writer repairs before appending, so the file stays valid
    with open(path, 'a') as f:
        f.write(cut)
    with CaptionWriter(path) as writer:
        writer.write([_rec('b.png', 'again')])
    assert read_captions(path)['b.png']['caption'] == 'again'


def test_complete_final_record_without_newline_is_kept(tmp_path):
    path = str(tmp_path / 'c.jsonl')
    with open(path, 'w') as f:
        f.write(json.dumps(_rec('a.png')) + '\n' + json.dumps(_rec('b.png')))
    assert list(read_captions(path)) == ['a.png', 'b.png']
    with CaptionWriter(path) as writer:
        writer.write([_rec('c.png')])
    assert list(read_captions(path)) == ['a.png', 'b.png', 'c.png']


def test_truncated_line_not_at_the_end_is_an_error(tmp_path):
    path = str(tmp_path / 'c.jsonl')
    _write_lines(path,
                 [json.dumps(_rec('a.png'))[:20],
                  json.dumps(_rec('b.png'))])
    with pytest.raises(DataError, match=r'c\.jsonl:1: not a JSON line'):
        read_captions(path)


def test_image_key_is_posix_relative_and_normalised():
    assert image_key('data/x/img/a.png', 'data/x') == 'img/a.png'
    assert image_key('./img/../img/a.png') == 'img/a.png'
    assert image_key('/abs/root/a/b.jpg', '/abs/root/') == 'a/b.jpg'


def test_merge_sorts_dedups_and_flags_conflicts(tmp_path):
    a, b, out = (str(tmp_path / n) for n in ('a.jsonl', 'b.jsonl', 'o.jsonl'))
    _write_lines(
        a, [json.dumps(_rec('z.png', 'z')),
            json.dumps(_rec('m.png', 'm'))])
    _write_lines(
        b, [json.dumps(_rec('a.png', 'a')),
            json.dumps(_rec('m.png', 'm'))])
    merged = merge_captions([a, b], out)
    assert list(merged) == ['a.png', 'm.png', 'z.png']
    with open(out) as f:
        lines = [json.loads(line) for line in f]
    assert [r['image'] for r in lines] == ['a.png', 'm.png', 'z.png']
    assert [r['caption'] for r in lines] == ['a', 'm', 'z']
    # the output may be one of the inputs
    assert list(merge_captions([out, a], out)) == ['a.png', 'm.png', 'z.png']
    _write_lines(b, [json.dumps(_rec('m.png', 'other'))])
    with pytest.raises(
            DataError,
            match=r"'m.png' has different captions in "
            r'.*o\.jsonl.*b\.jsonl'):
        merge_captions([out, b], out)
    assert list(read_captions(out)) == ['a.png', 'm.png', 'z.png']
