"""The Markdown report of ``benchmarks/pseudo_label_quality.py``: overall,
per-threshold and per-class tables, the edge band and precision at matched
coverage, from the JSON results of every row."""
from typing import List, Optional, Sequence

from .coverage import REGIONS

#: pseudo-label sources: result key -> report label
SOURCES = {
    'first_head': 'first head',
    'refined': 'refined (diffusion)',
    'first_select': 'refined class, first-head confidence',
}


def fmt_tau(tau) -> str:
    return tau if isinstance(tau, str) else f'{tau:g}'


def fmt(value: Optional[float], digits: int = 1) -> str:
    return '-' if value is None else f'{value:.{digits}f}'


def variants_of(result: dict) -> List[tuple]:
    """(label, summary) of a result's pseudo-label variants."""
    if not result['refined']:
        return [('teacher', result['first_head'])]
    return [(label, result[key]) for key, label in SOURCES.items()
            if result.get(key)]


def class_table(results: Sequence[dict], tau: float) -> List[str]:
    """Per-class signal / precision at threshold ``tau``: one line per
    class, one column per run and pseudo-label variant."""
    first = results[0]['first_head']
    columns = [(r, label, s) for r in results for label, s in variants_of(r)]
    lines = [
        '| class | share (%) | ' +
        ' | '.join(f'`{r["row"]}` s{r["seed"]} {label}'
                   for r, label, _ in columns) + ' |',
        '| --- | ---: |' + ' ---: |' * len(columns)
    ]
    for name, info in first['per_class'].items():
        cells = []
        for _, _, s in columns:
            by_tau = {
                t['threshold']: t
                for t in s['per_class'][name]['by_threshold']
            }
            t = by_tau.get(tau)
            cells.append('-' if t is None else
                         f'{fmt(t["signal"])} / {fmt(t["precision"])}')
        share = 100 * info['pixels'] / max(first['pixels'], 1)
        lines.append(f'| {name} | {fmt(share)} | ' + ' | '.join(cells) + ' |')
    return lines


def source_label(key: str, result: dict) -> str:
    return 'teacher' if not result['refined'] else SOURCES[key]


def edge_band_lines(results: Sequence[dict]) -> List[str]:
    """Coverage / precision at the config's threshold, overall and in the
    edge band, per source; then per true class in the band."""
    with_band = [r for r in results if r.get('edge_band')]
    if not with_band:
        return []
    lines = [
        '', '## Edge band (3 px around true edges) at the config\'s '
        'threshold', '',
        'coverage: % of the region\'s labelled pixels that get a pseudo '
        'label; precision: % of those that are right.', '',
        '| row | seed | pseudo labels | ' + ' | '.join(
            f'{region} coverage | {region} precision' for region in REGIONS) +
        ' |', '| --- | ---: | --- |' + ' ---: | ---: |' * len(REGIONS)
    ]
    for r in with_band:
        for key, band in r['edge_band'].items():
            cells = ' | '.join(f'{fmt(band[region]["coverage"])} | '
                               f'{fmt(band[region]["precision"])}'
                               for region in REGIONS)
            lines.append(f'| `{r["row"]}` | {r["seed"]} | '
                         f'{source_label(key, r)} | {cells} |')
    columns = [(r, key) for r in with_band for key in r['edge_band']]
    lines += [
        '', 'Per true class, edge band: coverage / precision (% of the '
        'class\'s band pixels that get a pseudo label / % of those right).',
        '', '| class | ' + ' | '.join(
            f'`{r["row"]}` s{r["seed"]} {source_label(k, r)}'
            for r, k in columns) + ' |', '| --- |' + ' ---: |' * len(columns)
    ]
    classes = list(with_band[0]['edge_band']['first_head'][REGIONS[1]]
                   ['per_class'])
    for name in classes:
        cells = []
        for r, k in columns:
            c = r['edge_band'][k][REGIONS[1]]['per_class'][name]
            cells.append(f'{fmt(c["coverage"])} / {fmt(c["precision"])}')
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    return lines


def matched_lines(results: Sequence[dict]) -> List[str]:
    """Precision of each source at the same coverage, overall, in the edge
    band and per class (cascade rows only)."""
    with_match = [
        r for r in results if r.get('matched_coverage') and r['refined']
    ]
    if not with_match:
        return []
    keys = list(SOURCES)
    lines = [
        '', '## Precision at matched coverage', '',
        'Each source labels its most confident pixels, as many as the '
        'coverage says (the first marked one: the first head\'s coverage at '
        'the config\'s threshold); delta: refined minus first head, in '
        'points.', '', '| row | seed | region | coverage | ' +
        ' | '.join(SOURCES[k] for k in keys) + ' | delta |',
        '| --- | ---: | --- | ---: |' + ' ---: |' * (len(keys) + 1)
    ]
    for r in with_match:
        for region, m in r['matched_coverage'].items():
            for i, cov in enumerate(m['coverages']):
                prec = [m['precision'][k][i] for k in keys]
                mark = ' (tau)' if m['threshold_coverage'] is not None and \
                    abs(cov - m['threshold_coverage']) < 0.01 else ''
                delta = None if None in prec[:2] else prec[1] - prec[0]
                lines.append(
                    f'| `{r["row"]}` | {r["seed"]} | {region} | '
                    f'{fmt(cov)}{mark} | ' +
                    ' | '.join(fmt(p) for p in prec) +
                    f' | {fmt(delta)} |')
    for r in with_match:
        lines += [
            '', f'Per true class, `{r["row"]}` s{r["seed"]}: precision at '
            'the first head\'s coverage of the class at the threshold '
            '(first head / refined / first-head confidence).', '',
            '| class | region | coverage | ' +
            ' | '.join(SOURCES[k] for k in keys) + ' |',
            '| --- | --- | ---: |' + ' ---: |' * len(keys)
        ]
        for region, m in r['matched_coverage'].items():
            for name, c in m['per_class'].items():
                lines.append(f'| {name} | {region} | {fmt(c["coverage"])} | ' +
                             ' | '.join(fmt(c[k]) for k in keys) + ' |')
    return lines


def markdown_report(results: Sequence[dict]) -> str:
    """Overall, per-threshold and per-class tables of all results."""
    lines = [
        '# Pseudo labels on CamVid 1/8\'s unlabeled images', '',
        'Written by `python benchmarks/pseudo_label_quality.py` from '
        '`benchmarks/results/pseudo_labels/*.json`. The EMA teacher of each '
        'run\'s best-val checkpoint labels the 322 unlabeled training images '
        '(whole image at the test resolution, as the weak view; captions as in '
        'training); their true labels, never read in training, score it at '
        'the labels\' resolution.', '',
        '| row | seed | ckpt iter | pseudo labels | pixel acc | mIoU |',
        '| --- | ---: | ---: | --- | ---: | ---: |'
    ]
    for r in results:
        for label, s in variants_of(r):
            lines.append(f'| `{r["row"]}` | {r["seed"]} | '
                         f'{r["checkpoint_iter"]} | {label} | '
                         f'{fmt(s["pixel_acc"])} | {fmt(s["miou"])} |')
    lines += [
        '', '## Coverage and precision per threshold', '',
        'coverage: % of labeled pixels with teacher confidence >= tau (they '
        'get a pseudo label in the unsupervised loss); precision: % of those '
        'pseudo labels that are correct; correct: % of all pixels that get a '
        'correct pseudo label.', '',
        '| row | seed | pseudo labels | tau | coverage | precision | '
        'correct |', '| --- | ---: | --- | ---: | ---: | ---: | ---: |'
    ]
    for r in results:
        for label, s in variants_of(r):
            for t in s['thresholds']:
                mark = ' (config)' if t['threshold'] == \
                    r['config_threshold'] else ''
                lines.append(f'| `{r["row"]}` | {r["seed"]} | {label} | '
                             f'{fmt_tau(t["threshold"])}{mark} | '
                             f'{fmt(t["coverage"])} | '
                             f'{fmt(t["precision"])} | '
                             f'{fmt(t["correct_share"])} |')
    taus = {r['config_threshold'] for r in results} | {0.7}
    for tau in sorted(taus, key=lambda t: (0, 0) if isinstance(t, str) else (1, -t)):
        lines += [
            '', f'## Per class at tau {fmt_tau(tau)}', '',
            'signal / prec: % of the class\'s pixels that receive a correct '
            'confident pseudo label / % of the class\'s confident pseudo '
            'labels that are correct; share: % of the labeled pixels of the '
            'unlabeled images.', ''
        ] + class_table(results, tau)
    lines += edge_band_lines(results) + matched_lines(results)
    dates = sorted({r['date'][:10] for r in results})
    machine = results[0]['machine']
    lines += [
        '', f'- machine: {machine["cpu"]}, {machine["cores"]} cores; dates: '
        f'{", ".join(dates)}', '- commits: ' +
        ', '.join(sorted({str(r['git']['commit'])
                          for r in results}))
    ]
    return '\n'.join(lines) + '\n'
