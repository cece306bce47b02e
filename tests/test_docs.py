"""The commands in README.md and docs/ name scripts, flags and configs that
exist, and (slow) every one of them runs in a fresh clone
(tools/run_doc_commands.py)."""
import json
import os.path as osp
import re
import subprocess
import sys

import pytest
from tools_loader import load_tool

doc_commands = load_tool('run_doc_commands')
ROOT = doc_commands.ROOT
PAGES = doc_commands.doc_pages()
script_of = doc_commands.script_of


def bash_commands(text: str) -> list:
    """The commands of the ```bash blocks as token lists."""
    return [c.tokens for c in doc_commands.bash_commands(text)]


def test_bash_commands_are_parsed():
    text = ('```bash\nFOO=1 python tools/x.py a \\\n    --flag 2  # c\n'
            'source .venv/bin/activate\n'
            "ls work_dirs/*.pth 'a # b'   # comment\n```\n")
    commands = doc_commands.bash_commands(text)
    assert [c.tokens for c in commands
            ] == [['python', 'tools/x.py', 'a', '--flag', '2'],
                  ['source', '.venv/bin/activate'],
                  ['ls', 'work_dirs/*.pth', 'a # b']]
    assert commands[0].env == {'FOO': '1'}
    # as written, for the shell: the glob unquoted, the quoted # kept
    assert [c.text for c in commands] == [
        'FOO=1 python tools/x.py a --flag 2', 'source .venv/bin/activate',
        "ls work_dirs/*.pth 'a # b'"
    ]


@pytest.mark.parametrize('page', PAGES)
def test_commands_name_existing_scripts_flags_and_configs(page):
    with open(osp.join(ROOT, page)) as f:
        commands = bash_commands(f.read())
    checked = 0
    copied = set()  # files the page has the reader create with cp
    for tokens in commands:
        if tokens[0] == 'cp' and len(tokens) == 3:
            assert osp.exists(osp.join(ROOT, tokens[1])), \
                f'{page}: {" ".join(tokens)}: no {tokens[1]}'
            copied.add(tokens[2])
        script = script_of(tokens)
        if script is None or not script.startswith(('tools/', 'benchmarks/')):
            continue
        path = osp.join(ROOT, script)
        assert osp.isfile(path), f'{page}: {" ".join(tokens)}: no {script}'
        with open(path) as f:
            source = f.read()
        for token in doc_commands.script_args(tokens):
            flag = token.split('=')[0]
            if flag.startswith('--'):
                assert f"'{flag}'" in source or f'"{flag}"' in source, \
                    f'{page}: {script} defines no {flag}'
            elif re.match(r'^configs/.*\.py$', token):
                assert token in copied or osp.isfile(osp.join(ROOT, token)), \
                    f'{page}: {" ".join(tokens)}: no {token}'
        checked += 1
    if page == 'README.md':
        assert checked >= 4


@pytest.mark.parametrize('page', PAGES)
def test_linked_files_exist(page):
    with open(osp.join(ROOT, page)) as f:
        text = f.read()
    for target in re.findall(r'\]\(([^)#]+)\)', text):
        if target.startswith('http'):
            continue
        path = osp.normpath(osp.join(ROOT, osp.dirname(page), target))
        assert osp.exists(path), f'{page}: link to missing {target}'
    for config in re.findall(r'`(configs/[\w./-]+\.py)`', text):
        assert osp.isfile(osp.join(ROOT, config)), f'{page}: no {config}'


def _page_commands():
    commands = {}
    for page in PAGES:
        with open(osp.join(ROOT, page)) as f:
            commands[page] = doc_commands.bash_commands(f.read())
    return commands


def test_run_tables_follow_the_pages():
    """Every entry of the runner's tables names a command of its page, and
    no command keeps a placeholder (CONFIG, [--show-dir DIR], path/to/...)
    when it runs."""
    commands = _page_commands()
    assert doc_commands.check_tables(commands) == []
    for page, cmds in commands.items():
        for cmd in cmds:
            if (page, cmd.text) in doc_commands.SKIPPED:
                continue
            run = doc_commands.substitute(
                cmd.text, doc_commands.SUBSTITUTIONS.get((page, cmd.text), []))
            left = [
                w for w in run.split()
                if re.match(r'^([A-Z][A-Z_]+|\[.*|.*\]|path/to/.*)$', w)
            ]
            assert not left, f'{page}: {cmd.text!r}: placeholders {left}'


def test_appended_options_shorten_what_the_reader_typed():
    """Appended --cfg-options override the command's own (docs/
    custom_dataset.md's quick check sets 20 iterations), a resumed run
    goes on past the checkpoint it resumes from, and the step-cost
    benchmark times two rows for a few iterations."""
    train = load_tool('train')
    quick = ('python tools/train.py configs/x.py --cfg-options '
             'train_cfg.max_iters=20 train_cfg.val_interval=20')
    tokens = quick.split()
    args = train.parse_args(
        doc_commands.script_args(tokens) +
        doc_commands.appended_options(tokens))
    assert args.cfg_options['train_cfg.max_iters'] == doc_commands.ITERS
    assert args.cfg_options['train_cfg.val_interval'] == doc_commands.ITERS
    tokens = 'python tools/train.py configs/x.py --resume'.split()
    args = train.parse_args(
        doc_commands.script_args(tokens) +
        doc_commands.appended_options(tokens))
    assert args.resume == 'auto'
    assert args.cfg_options['train_cfg.max_iters'] > doc_commands.ITERS
    # the step-cost benchmark: two rows, a few iterations
    import camvid_step_cost
    tokens = 'python benchmarks/camvid_step_cost.py'.split()
    args = camvid_step_cost.parse_args(
        doc_commands.script_args(tokens) +
        doc_commands.appended_options(tokens))
    assert args.rows == ['supervised', 'meanteacher']
    assert args.iters - args.skip == 2
    # as docs/benchmarks.md writes it: the thread count in front (the
    # command's text, assignments included, is what gets the options)
    written = 'OMP_NUM_THREADS=1 python benchmarks/camvid_step_cost.py'
    assert doc_commands.appended_options(written.split()) == \
        doc_commands.appended_options(tokens)


def test_setup_stamp_is_the_one_setup_env_writes():
    """The runner shares an environment only if its stamp is the one
    tools/setup_env.sh would write for the clone: the two recipes agree."""
    stamp_file = osp.join(sys.prefix, '.viladiff_setup_stamp')
    if not osp.isfile(stamp_file):
        pytest.skip('not running in an environment of tools/setup_env.sh')
    with open(stamp_file) as f:
        assert doc_commands.setup_stamp(ROOT) == f.read().strip()


@pytest.mark.slow
def test_every_command_runs_in_a_fresh_clone(tmp_path):
    """tools/run_doc_commands.py: every command of README.md and docs/ runs
    (shortened) in a clone, except the ones its table skips."""
    report = tmp_path / 'results.json'
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'run_doc_commands.py'), '--dir',
        str(tmp_path / 'run'), '--json',
        str(report)
    ],
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    with open(report) as f:
        results = json.load(f)
    skipped = [(r['page'], r['command']) for r in results
               if r['status'] == 'skipped']
    camvid = doc_commands.find_camvid() is not None
    expected = set(doc_commands.SKIPPED)
    assert set(skipped) == expected if camvid else set(skipped) >= expected
    assert all(r['status'] in ('ok', 'skipped') for r in results)
    assert len(results) == sum(len(c) for c in _page_commands().values())
