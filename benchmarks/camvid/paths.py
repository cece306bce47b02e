"""Where the CamVid benchmark reads and writes: the repository's tools,
the result JSON of each run, work dirs and caption files."""
import os.path as osp

#: the repository root (every relative config path starts here)
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RESULTS_DIR = osp.join(ROOT, 'benchmarks', 'results')
WORK_ROOT = osp.join(ROOT, 'benchmarks', 'work_dirs')
FIGURE_DIR = osp.join(ROOT, 'docs', 'figures')
#: the benchmark's name: result folder, report and figure names, JSON tag
BENCHMARK = 'camvid_semi'
TRAIN = osp.join(ROOT, 'tools', 'train.py')
TEST = osp.join(ROOT, 'tools', 'test.py')
CAPTION_TOOL = osp.join(ROOT, 'tools', 'generate_captions.py')
INFER_MODES_TOOL = osp.join(ROOT, 'tools', 'test_infer_modes.py')


def result_path(results_dir: str, row: str, seed: int) -> str:
    """``RESULTS_DIR/camvid_semi/ROW_seedS.json``."""
    return osp.join(results_dir, BENCHMARK, f'{row}_seed{seed}.json')


def default_work_dir(row: str, seed: int) -> str:
    return osp.join(WORK_ROOT, BENCHMARK, f'{row}_seed{seed}')


def default_caption_file(seed: int, captioner: str = 'template') -> str:
    """Template captions depend on the seed's supervised model
    (``camvid_template_seedS.jsonl``); oracle ones only on the labels
    (``camvid_oracle.jsonl``, ``camvid_oracle-regions.jsonl``)."""
    if captioner == 'template':
        name = f'camvid_template_seed{seed}.jsonl'
    else:
        name = f'camvid_{captioner}.jsonl'
    return osp.join(WORK_ROOT, 'captions', name)
