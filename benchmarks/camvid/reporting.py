"""The report step: every result JSON of the benchmark as a Markdown
table (mean +- half-range over seeds, test deltas paired seed by seed,
per-class test IoU, one line per run) and a plot of the val curves."""
import glob
import json
import os
import os.path as osp
import re
import statistics
from typing import Dict, List, Optional, Sequence, Tuple

from .errors import BenchmarkError
from .paths import BENCHMARK
from .rows import ROWS


def load_results(results_dir: str, benchmark: str = BENCHMARK) -> List[dict]:
    """Every ``RESULTS_DIR/BENCHMARK/*.json`` result of ``benchmark``, in
    row (``ROWS`` order, unknown rows last), iterations, then seed order."""
    results = []
    for path in sorted(glob.glob(osp.join(results_dir, benchmark, '*.json'))):
        with open(path) as f:
            data = json.load(f)
        if data.get('benchmark') == benchmark:
            results.append(data)
    order = list(ROWS)

    def sort_key(r):
        return (order.index(r['row']) if r['row'] in order else len(order),
                r['row'], r.get('iters', 0), r['seed'])

    return sorted(results, key=sort_key)


def mean_spread(values: Sequence[float]) -> Tuple[float, float]:
    """Mean and half-range ((max - min) / 2) of ``values``."""
    values = list(values)
    return statistics.fmean(values), (max(values) - min(values)) / 2


def _mean_spread_known(values) -> Optional[Tuple[float, float]]:
    """:func:`mean_spread` of the values that are not None, else None."""
    known = [v for v in values if v is not None]
    return mean_spread(known) if known else None


def group_results(results: Sequence[dict]) -> List[List[dict]]:
    """Results grouped by (row, iters), seeds inside a group, in the order
    of ``results``."""
    groups: Dict[Tuple[str, int], List[dict]] = {}
    for r in results:
        groups.setdefault((r['row'], r['iters']), []).append(r)
    return list(groups.values())


def summarize(group: Sequence[dict]) -> dict:
    """Mean and half-range over the seeds of one (row, iters) group."""
    first = group[0]
    stats = dict(
        row=first['row'],
        method=first.get('method', first['row']),
        iters=first['iters'],
        seeds=[r['seed'] for r in group],
        best_val=mean_spread(r['best_val']['mIoU'] for r in group),
        best_iter=mean_spread(r['best_val']['iteration'] for r in group),
        test=mean_spread(r['test']['mIoU'] for r in group),
        minutes=mean_spread(r['wall_time_s']['total'] / 60 for r in group),
        # median seconds of a training iteration (the Runner's log; None
        # where the run logged none)
        sec_per_iter=_mean_spread_known(
            r.get('median_train_iter_s') for r in group))
    classes = list(first['test']['per_class_iou'])
    per_class = {}
    for name in classes:
        values = [r['test']['per_class_iou'].get(name) for r in group]
        values = [v for v in values if v is not None]
        per_class[name] = mean_spread(values) if values else None
    stats['per_class'] = per_class
    return stats


def paired_delta(group: Sequence[dict],
                 base: Optional[Sequence[dict]]) -> Optional[dict]:
    """Test mIoU of ``group`` minus that of ``base``, seed by seed.

    Only the seeds both groups ran are paired; returns ``None`` when there
    are none, else ``dict(delta=(mean, half-range), seeds=[...])``.
    """
    if not base:
        return None
    base_test = {r['seed']: r['test']['mIoU'] for r in base}
    pairs = [(r['seed'], r['test']['mIoU'] - base_test[r['seed']])
             for r in group if r['seed'] in base_test]
    if not pairs:
        return None
    return dict(
        delta=mean_spread(d for _, d in pairs),
        seeds=sorted(s for s, _ in pairs))


def fmt_delta(paired: Optional[dict], seeds: Sequence[int]) -> str:
    """``+mean ± half-range``, naming the paired seeds when they are not all
    of the row's ``seeds``; '-' without a pair."""
    if paired is None:
        return '-'
    mean, spread = paired['delta']
    text = f'{mean:+.2f} ± {spread:.2f}'
    if paired['seeds'] != sorted(seeds):
        text += f' (seed {", ".join(map(str, paired["seeds"]))})'
    return text


def fmt(pair: Optional[Tuple[float, float]], digits: int = 2) -> str:
    """``mean ± half-range`` (just the mean for one seed; '-' for None)."""
    if pair is None:
        return '-'
    mean, spread = pair
    return f'{mean:.{digits}f} ± {spread:.{digits}f}'


def burn_in_iters(result: dict) -> int:
    """Iterations of the checkpoint a burn-in run started from (0 for a
    run from ImageNet weights), read from its name (``..._iter_N.pth``)."""
    found = re.search(r'iter_(\d+)\.pth$', result.get('init_checkpoint') or '')
    return int(found.group(1)) if found else 0


def base_group(bases: Dict[Tuple[str, int], List[dict]], base: str,
               row: str, iters: int) -> Optional[List[dict]]:
    """The ``base`` row's results to pair with ``row``: at the same
    iterations, or, for a row that starts from the base row's model
    (``Row.init_from``, directly or through the rows it starts from), at
    the base row's own budget."""
    if (base, iters) in bases:
        return bases[(base, iters)]
    start = ROWS[row].init_from if row in ROWS else None
    while start is not None and start != base:
        start = ROWS[start].init_from if start in ROWS else None
    if start == base:
        return next((g for (r, _), g in bases.items() if r == base), None)
    return None


def _unique(results, get) -> str:
    return ', '.join(sorted({str(get(r)) for r in results}))


def infer_mode_lines(groups: Sequence[Sequence[dict]]) -> List[str]:
    """The 'Inference modes' section: for each row run with
    ``--infer-modes``, val and test mIoU of its selected checkpoints with
    captions, class text only and no text, and vision minus caption (mean
    ± half-range over the seeds that have them); empty without any."""
    lines = []
    for g in groups:
        runs = [r for r in g if r.get('infer_modes')]
        for split in ('val', 'test'):
            tables = [r['infer_modes'].get(split, {}) for r in runs]
            per_mode = {}
            for mode in ('caption', 'class', 'vision'):
                values = [t[mode]['mIoU'] for t in tables if mode in t]
                complete = values and len(values) == len(runs)
                per_mode[mode] = mean_spread(values) if complete else None
            gap = None
            if per_mode['caption'] and per_mode['vision']:
                gap = mean_spread(t['vision']['mIoU'] - t['caption']['mIoU']
                                  for t in tables)
            if any(per_mode.values()):
                seeds = ', '.join(str(r['seed']) for r in runs)
                cells = [fmt(per_mode[m]) for m in per_mode]
                cells.append(f'{gap[0]:+.2f} ± {gap[1]:.2f}' if gap else '-')
                lines.append(f'| `{g[0]["row"]}` | {seeds} | {split} | ' +
                             ' | '.join(cells) + ' |')
    if not lines:
        return []
    return [
        '', '## Inference modes', '',
        'mIoU of the selected checkpoints with captions and class text '
        '(`caption`), class text only (`class`) and no text (`vision`, the '
        'configs\' `infer_mode` and the test mIoU above); rows run with '
        '`--infer-modes`. Captions of the `-oracle` rows read the labels '
        '(diagnostic).', '',
        '| row | seeds | split | caption | class | vision | vision - caption |',
        '| --- | --- | --- | ---: | ---: | ---: | ---: |'
    ] + lines


def markdown_report(results: Sequence[dict], png_name: str) -> str:
    """The Markdown report of ``results`` (see :func:`report`)."""
    groups = group_results(results)
    bases = {(g[0]['row'], g[0]['iters']): g for g in groups}
    lines = [
        '# CamVid 1/8 semi-supervised ablation',
        '',
        'Written by `python benchmarks/camvid_semi.py report` from the run '
        'results in `benchmarks/results/camvid_semi/*.json`; every number '
        'comes from those files. Values are **mean ± half-range** ((max - '
        'min) / 2) over the seeds listed. Val: 101 images, mIoU of the '
        'selected model (the EMA teacher for semi-supervised rows) at its '
        'best validation; test: 233 images, the best-val checkpoint. '
        'Δ test: test mIoU minus that of `supervised` (or `meanteacher`) '
        'at the same iterations and seed, mean ± half-range over the seeds '
        'both rows ran (named when not all of the row\'s seeds); a row that '
        'starts from the supervised model of its seed (burn-in, `iters` '
        'counts only its own iterations) is paired with that model.',
        '',
        f'- machine: {_unique(results, lambda r: r["machine"]["cpu"])}, '
        f'{_unique(results, lambda r: r["machine"]["cores"])} cores',
        f'- torch: {_unique(results, lambda r: r["torch"])}',
        f'- git commits: {_unique(results, lambda r: r["git"]["commit"])}',
        f'- dates: {_unique(results, lambda r: r["date"][:10])}',
        '',
        '| method | row | seeds | iters | best val mIoU | best val iter '
        '| test mIoU | Δ test vs supervised | Δ test vs mean teacher '
        '| train s/it | wall time (min) |',
        '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: '
        '| ---: |',
    ]
    summaries = []
    for g in groups:
        s = summarize(g)
        summaries.append(s)
        deltas = [
            fmt_delta(
                paired_delta(g, base_group(bases, base, s['row'],
                                           s['iters'])), s['seeds'])
            for base in ('supervised', 'meanteacher')
        ]
        lines.append(f'| {s["method"]} | `{s["row"]}` | '
                     f'{", ".join(map(str, s["seeds"]))} | {s["iters"]} | '
                     f'{fmt(s["best_val"])} | {fmt(s["best_iter"], 0)} | '
                     f'{fmt(s["test"])} | {" | ".join(deltas)} | '
                     f'{fmt(s["sec_per_iter"], 1)} | {fmt(s["minutes"], 1)} |')
    classes = list(summaries[0]['per_class']) if summaries else []
    lines += [
        '',
        '## Per-class test IoU',
        '',
        '| row | iters | ' + ' | '.join(classes) + ' |',
        '| --- | ---: |' + ' ---: |' * len(classes),
    ]
    for s in summaries:
        cells = [fmt(s['per_class'].get(c), 1) for c in classes]
        lines.append(f'| `{s["row"]}` | {s["iters"]} | ' + ' | '.join(cells) +
                     ' |')
    lines += infer_mode_lines(groups)
    lines += [
        '', '## Val mIoU during training', '',
        f'![val mIoU vs iteration]({png_name})', '', '## Runs', '',
        '| row | seed | iters | val interval | test mIoU | wall time (min) '
        '| command |', '| --- | ---: | ---: | ---: | ---: | ---: | --- |'
    ]
    for r in results:
        lines.append(f'| `{r["row"]}` | {r["seed"]} | {r["iters"]} | '
                     f'{r["val_interval"]} | {r["test"]["mIoU"]:.2f} | '
                     f'{r["wall_time_s"]["total"] / 60:.1f} | '
                     f'`{r["command"]}` |')
    return '\n'.join(lines) + '\n'


def plot_curves(results: Sequence[dict], path: str) -> None:
    """Val mIoU (of the selected model) vs iteration: one colour and one
    legend entry per row, line style by seed; a burn-in run's curve starts
    where its initial checkpoint was saved. The legend sits beside the
    axes and the figure grows with the number of rows, so the axes keep
    their size however many rows there are."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = [g[0]['row'] for g in group_results(results)]
    fig, ax = plt.subplots(figsize=(8, max(5.0, 0.17 * len(rows) + 1.0)))
    colours = plt.get_cmap('tab20').colors + plt.get_cmap('tab20b').colors
    styles = ['-', '--', ':', '-.']
    labelled = set()
    for r in results:
        if not r['val_curve']:
            continue
        iters, values = zip(*r['val_curve'])
        iters = [i + burn_in_iters(r) for i in iters]  # after its burn-in
        label = '_nolegend_'
        if r['row'] not in labelled:
            labelled.add(r['row'])
            label = f'{r["row"]} ({r["iters"]} it)'
        ax.plot(
            iters,
            values,
            styles[r['seed'] % len(styles)],
            color=colours[rows.index(r['row']) % len(colours)],
            marker='o',
            markersize=3,
            label=label)
    ax.set_xlabel('iteration')
    ax.set_ylabel('val mIoU (teacher for semi-supervised rows)')
    ax.set_title('CamVid 1/8: val mIoU during training '
                 '(seed 0 solid, seed 1 dashed)')
    ax.grid(alpha=0.3)
    ax.legend(
        fontsize=7,
        loc='upper left',
        bbox_to_anchor=(1.01, 1.0),
        borderaxespad=0.0)
    fig.savefig(path, dpi=120, bbox_inches='tight')
    plt.close(fig)


def report(args) -> str:
    """Write the Markdown table and the val-curve plot; returns the
    Markdown."""
    results = load_results(args.results_dir)
    if not results:
        raise BenchmarkError(
            f'no results in {osp.join(args.results_dir, BENCHMARK)}: run '
            '`python benchmarks/camvid_semi.py run ROW --seed S` first')
    md_path = osp.join(args.results_dir, f'{BENCHMARK}.md')
    os.makedirs(args.figure_dir, exist_ok=True)
    png_path = osp.join(args.figure_dir, f'{BENCHMARK}_val_curves.png')
    text = markdown_report(results, osp.relpath(png_path, args.results_dir))
    with open(md_path, 'w') as f:
        f.write(text)
    plot_curves(results, png_path)
    print(text)
    print(f'[{BENCHMARK}] wrote {md_path} and {png_path}')
    return text
