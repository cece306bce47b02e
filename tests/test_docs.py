"""The commands in README.md and docs/ name scripts, flags and configs that
exist (running them is the slow suite's and the benchmarks' job)."""
import glob
import os.path as osp
import re
import shlex

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PAGES = ['README.md'] + sorted(
    osp.relpath(p, ROOT) for p in glob.glob(osp.join(ROOT, 'docs', '*.md')))


def bash_commands(text: str) -> list:
    """Commands of the ```bash blocks: continuations joined, comments and
    environment assignments dropped -> list of token lists."""
    commands = []
    for block in re.findall(r'```bash\n(.*?)```', text, flags=re.S):
        for line in block.replace('\\\n', ' ').splitlines():
            tokens = shlex.split(line, comments=True)
            while tokens and re.match(r'^[A-Z_]+=', tokens[0]):
                tokens = tokens[1:]
            if tokens:
                commands.append(tokens)
    return commands


def script_of(tokens: list):
    """The repository script a command runs, or None (pip, ln, source...)."""
    if tokens[0] in ('python', 'bash') and len(tokens) > 1:
        return tokens[1]
    if tokens[0].startswith(('tools/', 'benchmarks/')):
        return tokens[0]
    return None


def test_bash_commands_are_parsed():
    text = ('```bash\nFOO=1 python tools/x.py a \\\n    --flag 2  # c\n'
            'source .venv/bin/activate\n```\n')
    assert bash_commands(text) == [['python', 'tools/x.py', 'a', '--flag', '2'],
                                   ['source', '.venv/bin/activate']]


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
        for token in tokens[2 if tokens[0] in ('python', 'bash') else 1:]:
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
