"""tools/generate_captions.py: whole runs, resuming, sharding, errors."""
import glob
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys
import time

import pytest
from captioning_helpers import (calibrated_checkpoint,
                                synthetic_caption_config, tiny_blip)
from conftest import CAMVID_ROOT, REPO_ROOT
from PIL import Image
from tools_loader import load_tool

from mmseg_viladiff.captioning import (HFCaptioner, default_prompt,
                                       read_captions, read_records)
from mmseg_viladiff.datasets import generate_synthetic_dataset
from mmseg_viladiff.datasets.transforms import LoadCaption
from mmseg_viladiff.utils import ConfigError, DataError

TOOL = osp.join(REPO_ROOT, 'tools', 'generate_captions.py')
CAMVID_SEG_CONFIG = osp.join(
    REPO_ROOT, 'configs/baselines/deeplabv3p_effnetl0_camvid_1-8.py')
# labeled + unlabeled train partitions, val and test: every CamVid image
CAMVID_ALL_CONFIG = osp.join(
    REPO_ROOT, 'configs/viladiff/meanteacher_effnetl0_camvid_1-8.py')

generate_captions = load_tool('generate_captions')


def _read(path):
    with open(path, 'rb') as f:
        return f.read()


def _keys(path):
    return [r['image'] for _, r in read_records(path)]


@pytest.fixture(scope='module')
def work(tmp_path_factory):
    return str(tmp_path_factory.mktemp('generate_captions'))


@pytest.fixture(scope='module')
def synthetic(work, synthetic_root):
    """(config, checkpoint, template arguments) on the synthetic set."""
    config = synthetic_caption_config(work, synthetic_root)
    images = sorted(glob.glob(osp.join(synthetic_root, 'img_dir/*/*.png')))
    ckpt = calibrated_checkpoint(config, images,
                                 osp.join(work, 'synthetic.pth'))
    args = [config, '--checkpoint', ckpt, '--batch-size', '4', '--no-progress']
    return config, ckpt, args


@pytest.fixture(scope='module')
def synthetic_reference(synthetic, work):
    """One uninterrupted template run over the synthetic config."""
    out = osp.join(work, 'reference.jsonl')
    generate_captions.main(synthetic[2] + ['--out', out])
    return out


def test_synthetic_run_captions_every_image_once(synthetic,
                                                 synthetic_reference,
                                                 synthetic_root):
    config, ckpt, _ = synthetic
    keys = _keys(synthetic_reference)
    # 4 labeled + 12 unlabeled train images and 4 val images, sorted
    expected = sorted(
        osp.relpath(p, synthetic_root)
        for p in glob.glob(osp.join(synthetic_root, 'img_dir/*/*.png')))
    assert len(expected) == 20 and keys == expected
    records = read_captions(synthetic_reference)
    assert {(r['captioner'], r['model'], r['prompt'])
            for r in records.values()} == {('template', ckpt, None)}
    assert all(r['caption'].startswith('a photo') for r in records.values())
    assert len({r['caption'] for r in records.values()}) > 1
    # the transform finds every image's caption
    load = LoadCaption(synthetic_reference, synthetic_root)
    for key in keys:
        out = load(dict(img_path=osp.join(synthetic_root, key)))
        assert out['caption'] == records[key]['caption']
    # a second run has nothing left to do and changes nothing
    before = _read(synthetic_reference)
    generate_captions.main(synthetic[2] + ['--out', synthetic_reference])
    assert _read(synthetic_reference) == before


def test_interrupted_run_resumes_without_loss_or_duplicates(
        synthetic, synthetic_reference, tmp_path):
    reference = _read(synthetic_reference)
    lines = reference.splitlines(keepends=True)
    out = str(tmp_path / 'captions.jsonl')
    # two synced batches of 4, then a line cut by a kill
    with open(out, 'wb') as f:
        f.write(b''.join(lines[:8]) + lines[8][:30])
    with pytest.warns(UserWarning, match='dropping a truncated final line'):
        generate_captions.main(synthetic[2] + ['--out', out])
    assert _read(out) == reference


def test_shards_merge_into_the_single_process_output(synthetic,
                                                     synthetic_reference,
                                                     tmp_path):
    out = str(tmp_path / 'captions.jsonl')
    generate_captions.main(synthetic[2] + ['--out', out, '--shard', '0/2'])
    shard0 = str(tmp_path / 'captions.shard-0-of-2.jsonl')
    assert len(_keys(shard0)) == 10 and not osp.exists(out)
    with pytest.raises(DataError, match='shard 1/2: 10 images missing'):
        generate_captions.main(synthetic[2] + ['--out', out, '--merge'])
    generate_captions.main(synthetic[2] + ['--out', out, '--shard', '1/2'])
    generate_captions.main(synthetic[2] + ['--out', out, '--merge'])
    assert _read(out) == _read(synthetic_reference)
    assert glob.glob(str(tmp_path / '*.shard-*')) == []


def test_tiny_blip_by_path_through_the_cli(work, synthetic_root, tmp_path):
    model = tiny_blip(work)
    folder = osp.join(synthetic_root, 'img_dir')
    out = str(tmp_path / 'blip.jsonl')
    classes = 'background,disc,square,triangle'
    generate_captions.main([
        folder, '--out', out, '--model', model, '--classes', classes,
        '--limit', '3', '--batch-size', '2', '--max-new-tokens', '8',
        '--no-progress'
    ])
    records = read_captions(out)
    assert list(records) == [
        'train/train_0000.png', 'train/train_0001.png', 'train/train_0002.png'
    ]
    prompt = default_prompt(classes.split(','))
    assert {(r['captioner'], r['model'], r['prompt'])
            for r in records.values()} == {('hf', model, prompt)}
    captioner = HFCaptioner(model, prompt=prompt, max_new_tokens=8)
    images = [Image.open(osp.join(folder, k)) for k in records]
    assert [r['caption'] for r in records.values()] == \
        captioner.caption(images)


def test_input_errors_are_clear(synthetic, synthetic_root, tmp_path):
    config, ckpt, args = synthetic
    out = ['--out', str(tmp_path / 'c.jsonl')]
    with pytest.raises(ConfigError, match='--shard must look like i/n'):
        generate_captions.main(args + out + ['--shard', '2'])
    with pytest.raises(ConfigError, match='need 0 <= i < n'):
        generate_captions.main(args + out + ['--shard', '2/2'])
    with pytest.raises(DataError, match='neither a config file'):
        generate_captions.main([str(tmp_path / 'nothing')] + out)
    (tmp_path / 'empty').mkdir()
    with pytest.raises(DataError, match='no images found'):
        generate_captions.main([str(tmp_path / 'empty')] + out)
    with pytest.raises(ConfigError, match='--model is needed'):
        generate_captions.main([config] + out)
    with pytest.raises(ConfigError, match='needs --checkpoint and a seg'):
        generate_captions.main([
            osp.join(synthetic_root, 'img_dir'), '--captioner', 'template',
            '--checkpoint', ckpt
        ] + out)
    with pytest.raises(DataError, match="SyntheticShapesDataset .*expects"):
        generate_captions.main(
            args + out +
            ['--data-root', str(tmp_path / 'elsewhere')])
    # a broken image is named
    broken = tmp_path / 'broken'
    broken.mkdir()
    (broken / 'bad.png').write_bytes(b'not a png')
    with pytest.raises(DataError, match=r'cannot read image .*bad\.png'):
        generate_captions.main([
            str(broken), '--captioner', 'template', '--checkpoint', ckpt,
            '--seg-config', config, '--no-progress'
        ] + out)
    # resuming into captions of another captioner would mix them
    mixed = str(tmp_path / 'mixed.jsonl')
    shutil.copy(osp.join(synthetic_root, 'captions.jsonl'), mixed)
    with pytest.raises(DataError, match="captioner='synthetic-ground-truth'"):
        generate_captions.main(args + ['--out', mixed])


def test_cli_prints_error_without_traceback(tmp_path):
    proc = subprocess.run([
        sys.executable, TOOL,
        str(tmp_path), '--out', 'c.jsonl', '--shard', 'x'
    ],
                          capture_output=True,
                          text=True,
                          timeout=300,
                          cwd=tmp_path)
    assert proc.returncode == 1
    assert 'error: --shard must look like i/n' in proc.stderr
    assert 'Traceback' not in proc.stderr


# ---------------------------------------------------------------------------
# subprocess runs: SIGKILL and resume, concurrent shards, torchrun, CamVid
def _start(args, cwd):
    return subprocess.Popen(
        [sys.executable, TOOL] + args,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True)


def _count_lines(path):
    if not osp.exists(path):
        return 0
    with open(path, 'rb') as f:
        return f.read().count(b'\n')


def _kill_when(proc, path, lines, timeout=300):
    """SIGKILL ``proc`` once ``path`` has ``lines`` lines; return the
    number of lines seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = _count_lines(path)
        if seen >= lines or proc.poll() is not None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return seen
        time.sleep(0.01)
    proc.kill()
    raise AssertionError(f'{path} never reached {lines} lines')


@pytest.mark.slow
def test_synthetic_sigkill_midway_then_resume(tmp_path):
    root = str(tmp_path / 'data')
    generate_synthetic_dataset(root, num_train=100, num_val=20, size=64)
    config = synthetic_caption_config(str(tmp_path), root)
    images = sorted(glob.glob(osp.join(root, 'img_dir/val/*.png')))[:8]
    ckpt = calibrated_checkpoint(config, images, str(tmp_path / 'seg.pth'))
    args = [config, '--checkpoint', ckpt, '--batch-size', '2', '--no-progress']
    reference = str(tmp_path / 'reference.jsonl')
    generate_captions.main(args + ['--out', reference])
    assert _count_lines(reference) == 120
    out = str(tmp_path / 'captions.jsonl')
    proc = _start(args + ['--out', out], cwd=tmp_path)
    seen = _kill_when(proc, out, 20)
    assert proc.returncode == -signal.SIGKILL
    assert 20 <= seen < 120, 'the run was not killed midway'
    done = _count_lines(out)
    proc = _start(args + ['--out', out], cwd=tmp_path)
    log = proc.communicate(timeout=300)[0]
    assert proc.returncode == 0, log[-3000:]
    assert f'{120 - done} images captioned, {done} already there' in log
    assert _read(out) == _read(reference)


@pytest.mark.slow
def test_torchrun_two_ranks_shard_and_merge(synthetic, synthetic_reference,
                                            tmp_path):
    out = str(tmp_path / 'captions.jsonl')
    proc = subprocess.run(
        [
            sys.executable, '-m', 'torch.distributed.run', '--standalone',
            '--nproc_per_node', '2', TOOL
        ] + synthetic[2] + ['--out', out],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert _read(out) == _read(synthetic_reference)
    assert glob.glob(str(tmp_path / '*.shard-*')) == []


@pytest.fixture(scope='module')
def camvid(work):
    """Template arguments for CamVid: a BN-calibrated random DeepLabV3+."""
    if not osp.isdir(CAMVID_ROOT):
        pytest.skip(f'CamVid not found at {CAMVID_ROOT}')
    images = sorted(glob.glob(osp.join(CAMVID_ROOT, 'train/*.png')))[::46]
    ckpt = calibrated_checkpoint(CAMVID_SEG_CONFIG, images,
                                 osp.join(work, 'camvid.pth'))
    return [
        CAMVID_ALL_CONFIG, '--data-root', CAMVID_ROOT, '--captioner',
        'template', '--seg-config', CAMVID_SEG_CONFIG, '--checkpoint', ckpt,
        '--no-progress'
    ]


@pytest.mark.slow
def test_camvid_kill_resume_and_shards_match_one_run(camvid, tmp_path):
    args = camvid + ['--limit', '32', '--batch-size', '2']
    reference = str(tmp_path / 'reference.jsonl')
    generate_captions.main(args + ['--out', reference])
    keys = _keys(reference)
    assert len(keys) == len(set(keys)) == 32
    assert len({r['caption'] for r in read_captions(reference).values()}) > 1
    # killed midway, then resumed
    out = str(tmp_path / 'resumed.jsonl')
    proc = _start(args + ['--out', out], cwd=tmp_path)
    seen = _kill_when(proc, out, 8)
    assert proc.returncode == -signal.SIGKILL and 8 <= seen < 32
    generate_captions.main(args + ['--out', out])
    assert _read(out) == _read(reference)
    # two shard processes at once, then the merge
    sharded = str(tmp_path / 'sharded.jsonl')
    procs = [
        _start(args + ['--out', sharded, '--shard', f'{i}/2'], cwd=tmp_path)
        for i in range(2)
    ]
    for proc in procs:
        log = proc.communicate(timeout=600)[0]
        assert proc.returncode == 0, log[-3000:]
    generate_captions.main(args + ['--out', sharded, '--merge'])
    assert _read(sharded) == _read(reference)


@pytest.mark.slow
def test_camvid_every_image_in_one_run(camvid, tmp_path):
    out = str(tmp_path / 'camvid.jsonl')
    start = time.monotonic()
    generate_captions.main(camvid + ['--out', out, '--batch-size', '8'])
    elapsed = time.monotonic() - start
    keys = _keys(out)
    expected = sorted(
        osp.relpath(p, CAMVID_ROOT) for split in ('train', 'val', 'test')
        for p in glob.glob(osp.join(CAMVID_ROOT, split, '*.png')))
    assert keys == expected and len(keys) == 701
    load = LoadCaption(out, CAMVID_ROOT)
    for key in keys[::50]:
        assert load(dict(img_path=osp.join(CAMVID_ROOT, key)))['caption']
    print(f'701 CamVid images captioned in {elapsed:.0f} s')
    os.remove(out)
