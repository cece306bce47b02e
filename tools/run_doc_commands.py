"""Run the commands of README.md and docs/*.md in a fresh clone.

Usage:
    python tools/run_doc_commands.py [--pages PAGE ...] [--dir DIR]
        [--venv VENV | --venv none] [--timeout S] [--json FILE]

Every command of a ```bash block runs as ``bash -c`` in a clone of this
repository's HEAD (``git clone``: uncommitted changes are not in it), page
after page and, within a page, in the page's order (a page's commands build
on the ones before: splits, a copied config, a trained checkpoint). The
environment is the one the docs set up: the virtual environment activated
(``--venv`` is linked as the clone's ``.venv``; it must be up to date for
this checkout, see :func:`link_venv`) and CamVid linked as ``data/camvid``
when this checkout has it.

What changes, and nothing else (each listed with the command's result):

- placeholders (``CONFIG``, ``CHECKPOINT``, ``[--show-dir DIR]``, ...) are
  replaced by real values: :data:`SUBSTITUTIONS`, one entry per command;
- long commands are shortened by options appended after what the reader
  types (2 training iterations, evaluation on 4 images, ...):
  :func:`appended_options`;
- data this machine lacks is written as a tiny stand-in in the documented
  layout before a page runs: :data:`STAND_INS`;
- commands that cannot or should not run here are skipped with the reason:
  :data:`SKIPPED`.

At the end a table gives each command as written, what was substituted or
appended, its status (ok, FAILED with the last lines of its output, or
skipped and why) and its seconds; the full output of every command is under
``DIR/logs``. Exit status 1 if a command failed, 2 if the tables above name
a command the pages no longer hold.
"""
import argparse
import glob
import hashlib
import io
import json
import os
import os.path as osp
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, NamedTuple, Optional

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

# --------------------------------------------------------------------------
# Reading the pages (also used by tests/test_docs.py)


class DocCommand(NamedTuple):
    """One command of a ```bash block.

    Attributes:
        text (str): the command as written, continuation lines joined,
            whitespace collapsed, trailing comment dropped.
        tokens (list): its words (``shlex``), leading ``VAR=value``
            assignments dropped.
        env (dict): those assignments.
    """
    text: str
    tokens: list
    env: dict


def doc_pages(root: str = ROOT) -> List[str]:
    """README.md, then docs/*.md in name order (paths relative to root)."""
    return ['README.md'] + sorted(
        osp.relpath(p, root)
        for p in glob.glob(osp.join(root, 'docs', '*.md')))


def strip_comment(line: str) -> str:
    """``line`` up to its shell comment (a ``#`` inside quotes stays)."""
    lexer = shlex.shlex(io.StringIO(line), posix=True)
    lexer.whitespace_split = True
    end = 0
    while lexer.get_token() is not None:
        end = lexer.instream.tell()
    return line[:end].strip()


def bash_commands(text: str) -> List[DocCommand]:
    """The commands of the ```bash blocks of a Markdown text, in order."""
    commands = []
    for block in re.findall(r'```bash\n(.*?)```', text, flags=re.S):
        for line in block.replace('\\\n', ' ').splitlines():
            line = ' '.join(strip_comment(line).split())
            env, tokens = split_assignments(shlex.split(line))
            if tokens:
                commands.append(DocCommand(line, tokens, env))
    return commands


def split_assignments(tokens: list) -> tuple:
    """``({VAR: value}, the rest)`` of a command's words that start with
    ``VAR=value`` assignments (``OMP_NUM_THREADS=1 python ...``)."""
    tokens, env = list(tokens), {}
    while tokens and re.match(r'^[A-Z_]+=', tokens[0]):
        key, _, value = tokens.pop(0).partition('=')
        env[key] = value
    return env, tokens


def script_of(tokens: list) -> Optional[str]:
    """The script a command runs (``python X``, ``bash X``, ``tools/X``,
    ``benchmarks/X``), or None (pip, ln, source, ...)."""
    if tokens[0] in ('python', 'bash') and len(tokens) > 1:
        return tokens[1]
    if tokens[0].startswith(('tools/', 'benchmarks/')):
        return tokens[0]
    return None


def script_args(tokens: list) -> list:
    """The words after the script."""
    return tokens[2:] if tokens[0] in ('python', 'bash') else tokens[1:]


# --------------------------------------------------------------------------
# What the runner changes

#: training iterations of a shortened run, and the iteration a resumed run
#: goes on to (its checkpoint is at ITERS)
ITERS = 2
RESUMED_ITERS = 4
#: images of a shortened validation or test
EVAL_IMAGES = 4

README_CONFIG = 'configs/viladiff/meanteacher_effnetl0_camvid_1-8.py'
README_WORK_DIR = 'work_dirs/meanteacher_effnetl0_camvid_1-8'
USAGE_CONFIG = 'configs/baselines/deeplabv3p_effnetl0_camvid_1-8.py'
USAGE_WORK_DIR = 'work_dirs/deeplabv3p_effnetl0_camvid_1-8'

# yapf: disable
#: (page, command as written) -> [(placeholder, value)]: a placeholder is
#: a whole word (or several) of the command
SUBSTITUTIONS: Dict[tuple, list] = {
    # README, "Train, test, infer": CONFIG is the config trained by the
    # line above; its run stopped at ITERS, the resumed one at RESUMED_ITERS
    ('README.md', 'python tools/train.py CONFIG --resume'): [
        ('CONFIG', README_CONFIG)],
    ('README.md', 'python tools/test.py CONFIG CHECKPOINT [--show-dir DIR]'): [
        ('CONFIG', README_CONFIG),
        ('CHECKPOINT', f'{README_WORK_DIR}/iter_{RESUMED_ITERS}.pth'),
        # the optional flag, given
        ('[--show-dir DIR]', f'--show-dir {README_WORK_DIR}/show')],
    # docs/usage.md: CONFIG is the config its first line trains
    ('docs/usage.md', 'python tools/train.py CONFIG --resume'): [
        ('CONFIG', USAGE_CONFIG)],
    ('docs/usage.md',
     'python tools/train.py CONFIG --resume path/to/iter_500.pth'): [
        ('CONFIG', USAGE_CONFIG),
        # the checkpoint of the first (shortened) run
        ('path/to/iter_500.pth', f'{USAGE_WORK_DIR}/iter_{ITERS}.pth')],
    ('docs/usage.md',
     'python tools/test.py CONFIG CHECKPOINT [--show-dir DIR] [--out DIR]'): [
        ('CONFIG', USAGE_CONFIG),
        ('CHECKPOINT', f'{USAGE_WORK_DIR}/iter_{RESUMED_ITERS}.pth'),
        ('[--show-dir DIR]', f'--show-dir {USAGE_WORK_DIR}/show'),
        ('[--out DIR]', f'--out {USAGE_WORK_DIR}/out')],
    # 8 GPUs -> 2 CPU processes (gloo), as the page says a CPU runs it
    ('docs/usage.md', 'tools/dist_train.sh CONFIG 8'): [
        ('CONFIG 8', f'{USAGE_CONFIG} 2')],
    ('docs/usage.md', 'tools/dist_test.sh CONFIG CHECKPOINT 8'): [
        ('CONFIG CHECKPOINT 8',
         f'{USAGE_CONFIG} {USAGE_WORK_DIR}/iter_{ITERS}.pth 2')],
}

#: (page, command as written) -> why it is not run here
SKIPPED: Dict[tuple, str] = {
    ('README.md', 'bash tools/demo.sh'):
    'measured separately: 10-11.5 min a run, three fresh clones on '
    '2026-12-03 (README, "The two commands")',
    ('README.md', 'bash tools/run_tests.sh'):
    'run by CI (.ci/run): the fast suite, the suite this check is part of',
    ('README.md',
     'tools/dist_train.sh configs/viladiff/deeplabv3p_r101_voc_1-16.py 4'):
    'needs Pascal VOC + SBD with VLM captions, the ResNet-101-V1c and CLIP '
    'ViT-B/16 weights (downloaded on first use) and GPUs for 4 x (4 + 4) '
    '512x512 crops; tests/test_configs.py builds the config',
    ('docs/benchmarks.md', 'python tools/vl_neck_stats.py benchmarks/work_dirs/'
     'camvid_semi/meanteacher-vl-oracle_seed0/best_teacher_mIoU_iter_400.pth'):
    'reads the checkpoint of a full meanteacher-vl-oracle row (30 min); '
    'tests/test_tools/test_vl_neck_stats.py runs the tool on a saved one',
    ('docs/install.md', 'FORCE_CUDA=1 MAX_JOBS=8 bash tools/setup_env.sh'):
    'builds mmcv\'s CUDA ops: needs nvcc and a GPU (and would rebuild the '
    'shared environment)',
}
# yapf: enable


def appended_options(tokens: list) -> list:
    """Options appended to a command to shorten it (empty: none).

    Args:
        tokens (list): the command's words, placeholders substituted.

    Returns:
        list: words to append after the command.
    """
    tokens = split_assignments(tokens)[1]
    script, args = script_of(tokens), script_args(tokens)
    if script in ('tools/train.py', 'tools/dist_train.sh'):
        # ITERS iterations (RESUMED_ITERS when resuming from ITERS), a
        # checkpoint and a validation on EVAL_IMAGES images at ITERS
        iters = RESUMED_ITERS if '--resume' in args else ITERS
        return [
            '--cfg-options', f'train_cfg.max_iters={iters}',
            f'train_cfg.val_interval={ITERS}',
            f'default_hooks.checkpoint.interval={ITERS}',
            f'val_dataloader.dataset.indices={EVAL_IMAGES}'
        ]
    if script in ('tools/test.py', 'tools/dist_test.sh'):
        return [
            '--cfg-options', f'test_dataloader.dataset.indices={EVAL_IMAGES}'
        ]
    if script == 'benchmarks/camvid_semi.py' and args[:1] == ['run']:
        # the row for ITERS iterations, validated once (no option makes its
        # validation and test smaller)
        return ['--iters', str(ITERS), '--val-interval', str(ITERS)]
    if script == 'benchmarks/camvid_step_cost.py':
        # two rows, RESUMED_ITERS iterations, the median of the last two
        return [
            '--rows', 'supervised', 'meanteacher', '--iters',
            str(RESUMED_ITERS), '--skip',
            str(RESUMED_ITERS - 2)
        ]
    return []


def substitute(text: str, pairs: list) -> str:
    """Replace each placeholder (whole words) of ``text`` by its value.

    Raises:
        ValueError: a placeholder is not in ``text``.
    """
    for old, new in pairs:
        pattern = r'(?<!\S)' + re.escape(old) + r'(?!\S)'
        if not re.search(pattern, text):
            raise ValueError(f'{old!r} is not a word of {text!r}')
        text = re.sub(pattern, lambda _: new, text)
    return text


def check_tables(commands: Dict[str, List[DocCommand]]) -> List[str]:
    """Entries of :data:`SUBSTITUTIONS` and :data:`SKIPPED` for the pages
    in ``commands`` that name no command of their page (the page changed:
    update the table)."""
    stale = []
    for table in (SUBSTITUTIONS, SKIPPED):
        for page, text in table:
            if page in commands and \
                    text not in [c.text for c in commands[page]]:
                stale.append(f'{page}: {text!r}')
    return stale


# --------------------------------------------------------------------------
# Stand-ins for data this machine lacks, in the layout the page documents


def write_my_dataset(clone: str) -> str:
    """docs/custom_dataset.md's ``data/my_dataset`` as the template expects
    it unedited: 16 training and 4 validation 96x64 ``.jpg`` images, one-
    channel ``.png`` masks of its 3 classes (background, road, car) with an
    ignored (255) border."""
    import numpy as np
    from PIL import Image
    root = osp.join(clone, 'data', 'my_dataset')
    rng = np.random.RandomState(0)
    colours = np.array([[90, 140, 200], [110, 110, 110], [200, 40, 40]])
    for split, num in (('train', 16), ('val', 4)):
        for folder in ('img_dir', 'ann_dir'):
            os.makedirs(osp.join(root, folder, split), exist_ok=True)
        for i in range(num):
            mask = np.zeros((64, 96), np.uint8)  # (H, W)
            mask[rng.randint(24, 40):] = 1  # road below the horizon
            top, left = rng.randint(28, 44), rng.randint(0, 64)
            mask[top:top + 16, left:left + 28] = 2  # a car
            img = colours[mask] + rng.randint(-20, 20, size=(64, 96, 3))
            mask[:2] = 255
            name = f'{split}_{i:03d}'
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(
                osp.join(root, 'img_dir', split, name + '.jpg'))
            Image.fromarray(mask).save(
                osp.join(root, 'ann_dir', split, name + '.png'))
    return 'data/my_dataset: 16 train + 4 val 96x64 .jpg images, .png masks'


def write_voc_lists(clone: str) -> str:
    """docs/datasets.md's VOC image lists with the real counts (1464 in
    ``train.txt``, 10582 in ``aug.txt``, which holds them): the only files
    its ``make_splits.py`` command reads."""
    folder = osp.join(clone, 'data', 'VOCdevkit', 'VOC2012', 'ImageSets',
                      'Segmentation')
    os.makedirs(folder)
    names = [f'stand_in_{i:05d}' for i in range(10582)]
    for name, items in (('train.txt', names[:1464]), ('aug.txt', names)):
        with open(osp.join(folder, name), 'w') as f:
            f.writelines(item + '\n' for item in items)
    return ('data/VOCdevkit/VOC2012/ImageSets/Segmentation/{train,aug}.txt: '
            '1464 / 10582 names')


#: page -> function writing its stand-in data into the clone
STAND_INS = {
    'docs/custom_dataset.md': write_my_dataset,
    'docs/datasets.md': write_voc_lists,
}

# --------------------------------------------------------------------------
# The clone and its environment


def setup_stamp(root: str) -> str:
    """The stamp ``tools/setup_env.sh`` writes into an environment it set
    up for ``root`` (same files, same hash). Should the two drift apart,
    :func:`link_venv` refuses to share an environment: the safe side."""
    extras = os.environ.get('VILADIFF_EXTRAS', 'optional').split()
    files = [
        'requirements/torch.txt', 'requirements/build.txt',
        'requirements/mminstall.txt', 'requirements/runtime.txt',
        'requirements/tests.txt', 'setup.py'
    ] + [f'requirements/{e}.txt' for e in extras] + ['tools/setup_env.sh']
    digest = hashlib.sha256()
    for name in files:
        with open(osp.join(root, name), 'rb') as f:
            digest.update(f.read())
    return digest.hexdigest()[:16] + '-cuda' + os.environ.get(
        'FORCE_CUDA', '0')


def link_venv(venv: str, clone: str) -> None:
    """Link ``venv`` as the clone's ``.venv``, so that its set-up is
    skipped (``tools/setup_env.sh`` finds it up to date).

    Raises:
        RuntimeError: ``venv`` was not set up for the clone's requirements:
            the clone's ``tools/setup_env.sh`` would reinstall it, with the
            package pointing into the clone.
    """
    stamp_file = osp.join(venv, '.viladiff_setup_stamp')
    have = open(stamp_file).read().strip() if osp.isfile(stamp_file) else None
    need = setup_stamp(clone)
    if have != need:
        raise RuntimeError(
            f'{venv} is not set up for this checkout (stamp {have}, needs '
            f'{need}): run `bash tools/setup_env.sh` first, or pass --venv '
            'none to set up a new environment in the clone')
    os.symlink(venv, osp.join(clone, '.venv'))


def find_camvid() -> Optional[str]:
    """CamVid as this checkout sees it (``data/camvid``, or
    ``../shared/data/camvid`` as tools/setup_env.sh links it), or None."""
    for path in (osp.join(ROOT, 'data', 'camvid'),
                 osp.join(ROOT, '..', 'shared', 'data', 'camvid')):
        if osp.isdir(path):
            return osp.realpath(path)
    return None


def make_clone(workdir: str, venv: Optional[str]) -> str:
    """Clone HEAD into ``workdir/clone``; link ``venv`` and CamVid."""
    dirty = subprocess.run(
        ['git', 'status', '--porcelain', '--untracked-files=no'],
        cwd=ROOT,
        capture_output=True,
        text=True).stdout
    if dirty:
        print('[docs] note: uncommitted changes are not in the clone:\n' +
              dirty.rstrip())
    clone = osp.join(workdir, 'clone')
    subprocess.run(['git', 'clone', '--quiet', ROOT, clone], check=True)
    if venv is not None:
        link_venv(venv, clone)
    camvid = find_camvid()
    if camvid is not None:  # docs/datasets.md: ln -s /path/to/camvid ...
        os.makedirs(osp.join(clone, 'data'))
        os.symlink(camvid, osp.join(clone, 'data', 'camvid'))
    return clone


def command_env(clone: str) -> dict:
    """The reader's shell: the clone's environment activated (PATH,
    VIRTUAL_ENV); the clone first on PYTHONPATH, as a linked environment's
    editable install points at the checkout that made it."""
    venv = osp.join(clone, '.venv')
    return dict(
        os.environ,
        PATH=osp.join(venv, 'bin') + os.pathsep + os.environ['PATH'],
        VIRTUAL_ENV=venv,
        PYTHONPATH=clone)


# --------------------------------------------------------------------------
# Running


class Result(NamedTuple):
    page: str
    command: str  # as written
    run: str  # as run (None if skipped)
    changes: str  # what was substituted / appended
    status: str  # 'ok', 'FAILED', 'skipped'
    detail: str  # why skipped, exit status and last lines if failed
    seconds: float


def needs_camvid(run: str) -> bool:
    """A command reads CamVid: it names a CamVid config, or it is one of
    the CamVid benchmarks."""
    script = script_of(shlex.split(run))
    return 'camvid' in run.lower() or bool(
        script and script.startswith('benchmarks/'))


def describe_changes(pairs: list, appended: list) -> str:
    parts = [f'{old} -> {new}' for old, new in pairs]
    if appended:
        parts.append('+ ' + ' '.join(appended))
    return '; '.join(parts)


def end_group(proc: subprocess.Popen) -> None:
    """End the process group ``proc`` leads: SIGTERM, SIGKILL 10 s
    later."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def run_command(page: str, cmd: DocCommand, clone: str, env: dict, log: str,
                timeout: float) -> Result:
    """Run one command in the clone (or skip it); output goes to ``log``."""
    if (page, cmd.text) in SKIPPED:
        return Result(page, cmd.text, None, '', 'skipped',
                      SKIPPED[page, cmd.text], 0.0)
    pairs = SUBSTITUTIONS.get((page, cmd.text), [])
    text = substitute(cmd.text, pairs)
    appended = appended_options(shlex.split(text))
    run = ' '.join([text] + appended)
    changes = describe_changes(pairs, appended)
    if needs_camvid(run) and not osp.isdir(osp.join(clone, 'data', 'camvid')):
        return Result(page, cmd.text, run, changes, 'skipped',
                      'CamVid is not on this machine (docs/datasets.md)', 0.0)
    print(f'[docs] {page}: {run}', flush=True)
    start = time.perf_counter()
    with open(log, 'w') as f:
        f.write(f'$ {run}\n')
        f.flush()
        # its own process group, so that a timeout ends what it started too
        # (the benchmark's training, dataloader workers, torchrun's ranks)
        proc = subprocess.Popen(['bash', '-c', run],
                                cwd=clone,
                                env=env,
                                stdout=f,
                                stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = f'timeout after {timeout:.0f} s'
            end_group(proc)
        except BaseException:
            end_group(proc)
            raise
    seconds = time.perf_counter() - start
    if code == 0:
        print(f'[docs]   ok, {seconds:.0f} s', flush=True)
        return Result(page, cmd.text, run, changes, 'ok', '', seconds)
    with open(log) as f:
        tail = ''.join(f.readlines()[-15:])
    print(
        f'[docs]   FAILED ({code}), {seconds:.0f} s; {log}:\n{tail}',
        flush=True)
    return Result(page, cmd.text, run, changes, 'FAILED',
                  f'exit {code}; last lines of {log}:\n{tail}', seconds)


def table(results: List[Result]) -> str:
    """Markdown table of the results, then the output of failed ones."""
    rows = [
        '| page | command (as written) | substituted / appended | '
        'status | s |', '| --- | --- | --- | --- | ---: |'
    ]
    for r in results:
        status = r.status if r.status != 'skipped' else \
            f'skipped: {r.detail}'
        rows.append(f'| {r.page} | `{r.command}` | {r.changes} | {status} | '
                    f'{r.seconds:.0f} |')
    failed = [r for r in results if r.status == 'FAILED']
    for r in failed:
        rows += ['', f'FAILED {r.page}: {r.run}', r.detail]
    return '\n'.join(rows)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--pages',
        nargs='+',
        help='pages to run (default: README.md and docs/*.md)')
    parser.add_argument(
        '--dir',
        help='folder for the clone and the logs (default: a new temporary '
        'folder, removed unless a command fails)')
    parser.add_argument(
        '--venv',
        default=os.environ.get('VILADIFF_VENV', osp.join(ROOT, '.venv')),
        help='environment linked as the clone\'s .venv (default: this '
        'checkout\'s); "none": the clone sets up its own')
    parser.add_argument(
        '--timeout',
        type=float,
        default=3600,
        help='seconds one command may take (a guard against hangs: the '
        'longest, a benchmark row, took 16 min on a core shared with other '
        'jobs)')
    parser.add_argument('--json', help='also write the results here')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    pages = args.pages or doc_pages()
    commands = {}
    for page in pages:
        with open(osp.join(ROOT, page)) as f:
            commands[page] = bash_commands(f.read())
    stale = check_tables(commands)
    if stale:
        print(
            'error: tools/run_doc_commands.py names commands its pages '
            'no longer hold:\n  ' + '\n  '.join(stale),
            file=sys.stderr)
        return 2
    workdir = args.dir or tempfile.mkdtemp(prefix='doc_commands_')
    os.makedirs(osp.join(workdir, 'logs'), exist_ok=True)
    venv = None if args.venv == 'none' else osp.abspath(args.venv)
    try:
        clone = make_clone(workdir, venv)
    except RuntimeError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    env = command_env(clone)
    if venv is None:  # the README's commands set up first; they are skipped
        subprocess.run(['bash', 'tools/setup_env.sh'],
                       cwd=clone,
                       env=env,
                       check=True)
    start = time.perf_counter()
    results = []
    for page in pages:
        if page in STAND_INS and commands[page]:
            print(f'[docs] {page}: stand-in {STAND_INS[page](clone)}')
        for cmd in commands[page]:
            log = osp.join(workdir, 'logs', f'{len(results):02d}.log')
            results.append(
                run_command(page, cmd, clone, env, log, args.timeout))
    total = time.perf_counter() - start
    print('\n' + table(results))
    counts = {
        s: sum(r.status == s for r in results)
        for s in ('ok', 'FAILED', 'skipped')
    }
    keep = bool(args.dir or counts['FAILED'])
    print(f'\n{counts["ok"]} ok, {counts["FAILED"]} failed, '
          f'{counts["skipped"]} skipped; {total / 60:.1f} min' +
          (f'; clone and logs in {workdir}' if keep else ''))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump([r._asdict() for r in results], f, indent=1)
    if not keep:
        shutil.rmtree(workdir)
    return 1 if counts['FAILED'] else 0


if __name__ == '__main__':
    sys.exit(main())
