"""The CamVid 1/8 semi-supervised ablation behind
``benchmarks/camvid_semi.py`` (its docstring describes the rows, the
outputs and the budget).

``benchmarks/`` is not a package: the scripts there import this one as
``camvid``, which works because Python puts a script's folder on
``sys.path``; the tests add ``benchmarks`` to it (``pythonpath`` in
``setup.cfg``).
"""
from .errors import BenchmarkError
from .loading import LoadedRun, images, load_run, load_split_run
from .outputs import (best_checkpoint, median_train_scalar, parse_class_table,
                      read_scalars, read_test_metrics, val_curve)
from .paths import (BENCHMARK, FIGURE_DIR, RESULTS_DIR, ROOT, WORK_ROOT,
                    default_caption_file, default_work_dir, result_path)
from .provenance import git_commit, machine_info, torch_version
from .reporting import (group_results, load_results, markdown_report,
                        mean_spread, paired_delta, plot_curves, report,
                        summarize)
from .rows import (DEFAULT_ITERS, ROWS, VALIDATIONS, Row, build_run_config,
                   metric_key, row_iters)
from .running import (ensure_captions, ensure_oracle_captions, row_captions,
                      run)
from .scoring import class_scores, confusion, iou, run_record, save_record

__all__ = [
    'BenchmarkError', 'LoadedRun', 'images', 'load_run', 'load_split_run', 'best_checkpoint', 'median_train_scalar',
    'parse_class_table', 'read_scalars', 'read_test_metrics', 'val_curve',
    'BENCHMARK', 'FIGURE_DIR', 'RESULTS_DIR', 'ROOT', 'WORK_ROOT',
    'default_caption_file', 'default_work_dir', 'result_path', 'git_commit',
    'machine_info', 'torch_version', 'group_results', 'load_results',
    'markdown_report', 'mean_spread', 'paired_delta', 'plot_curves', 'report',
    'summarize', 'DEFAULT_ITERS', 'ROWS', 'VALIDATIONS', 'Row',
    'build_run_config', 'metric_key', 'row_iters', 'ensure_captions',
    'ensure_oracle_captions', 'row_captions', 'run', 'class_scores',
    'confusion', 'iou', 'run_record', 'save_record'
]
