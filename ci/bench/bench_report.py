#!/usr/bin/env python3
"""Table and agreement check for ci/bench/bench_compute_stats.sh.

Reads a TSV of runs (dataset, tool, threads, wall_seconds, json; a configuration may appear in
several rounds, the table shows its fastest) where `tool` is `ours`
(a compute_stats stats proto written as JSON: mean, std, images; int64 fields may be strings)
or `baseline` (stats_baseline.py's JSON, which carries its own `seconds`), prints

    dataset  tool  threads  images  seconds  images/s  images/s/core  ours/baseline

and checks that every run of a dataset agrees with the first baseline run on the image count
and on mean/std to --tolerance. Timings are reported, never asserted. Exit code 1 when the
results disagree, 0 otherwise.

    bench_report.py --runs=runs.tsv [--tolerance=1e-4] [--markdown=results.md]
"""

import argparse
import json
import sys


def find(obj, key):
    """obj[key], or the first value of `key` found in nested objects."""
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        for value in obj.values():
            found = find(value, key)
            if found is not None:
                return found
    return None


def load_run(dataset, tool, threads, wall, path):
    with open(path) as f:
        result = json.load(f)
    mean, std, images = find(result, 'mean'), find(result, 'std'), find(result, 'images')
    if mean is None or std is None or images is None:
        raise SystemExit('bench_report: %s has no mean/std/images' % path)
    # The baseline times itself from ImageFolder creation to the last batch (its Python and
    # torch start-up are left out, in its favour); ours is timed from outside, start-up included.
    seconds = result['seconds'] if tool == 'baseline' and 'seconds' in result else float(wall)
    return {'dataset': dataset, 'tool': tool, 'threads': int(threads), 'seconds': seconds,
            'images': int(images), 'mean': [float(v) for v in mean],
            'std': [float(v) for v in std], 'path': path}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--runs', required=True)
    parser.add_argument('--tolerance', type=float, default=1e-4)
    parser.add_argument('--markdown', help='also write the table as Markdown here')
    args = parser.parse_args()

    runs = []
    with open(args.runs) as f:
        for line in f:
            if line.strip():
                runs.append(load_run(*line.rstrip('\n').split('\t')))

    # Every run takes part in the agreement check; the table shows the fastest run of each
    # (dataset, tool, threads).
    fastest = {}
    for r in runs:
        key = (r['dataset'], r['tool'], r['threads'])
        fastest.setdefault(key, []).append(r)
    table = []
    for key, group in fastest.items():
        best = dict(min(group, key=lambda r: r['seconds']))
        best['rounds'] = len(group)
        table.append(best)

    baseline_rate = {(r['dataset'], r['threads']): r['images'] / r['seconds']
                     for r in table if r['tool'] == 'baseline'}
    header = ['dataset', 'tool', 'threads', 'images', 'seconds', 'images/s', 'images/s/core',
              'ours/baseline']
    rows = []
    for r in table:
        rate = r['images'] / r['seconds']
        base = baseline_rate.get((r['dataset'], r['threads']))
        ratio = '%.2fx' % (rate / base) if r['tool'] == 'ours' and base else ''
        tool = 'compute_stats' if r['tool'] == 'ours' else 'torchvision DataLoader'
        rows.append([r['dataset'], tool, str(r['threads']), str(r['images']),
                     '%.2f' % r['seconds'], '%.1f' % rate, '%.1f' % (rate / r['threads']), ratio])
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    rounds = sorted({r['rounds'] for r in table})
    print('fastest of %s round(s) per configuration; threads = compute_stats --threads or '
          'DataLoader num_workers' % '/'.join(map(str, rounds)))
    print('  '.join(h.ljust(w) for h, w in zip(header, widths)))
    for row in rows:
        print('  '.join(c.ljust(w) for c, w in zip(row, widths)))
    if args.markdown:
        with open(args.markdown, 'w') as f:
            f.write('| ' + ' | '.join(header) + ' |\n')
            f.write('|' + '|'.join('---' for _ in header) + '|\n')
            for row in rows:
                f.write('| ' + ' | '.join(row) + ' |\n')

    ok = True
    for dataset in dict.fromkeys(r['dataset'] for r in runs):
        mine = [r for r in runs if r['dataset'] == dataset]
        reference = next((r for r in mine if r['tool'] == 'baseline'), mine[0])
        worst = 0.0
        for r in mine:
            if r['images'] != reference['images']:
                print('MISMATCH %s: %s --threads=%d read %d images, %s --threads=%d read %d'
                      % (dataset, r['tool'], r['threads'], r['images'], reference['tool'],
                         reference['threads'], reference['images']))
                ok = False
            for key in ('mean', 'std'):
                for a, b in zip(r[key], reference[key]):
                    worst = max(worst, abs(a - b))
        agree = worst <= args.tolerance
        ok = ok and agree
        print('%s %s: max |difference| of mean/std over %d runs = %.3g (tolerance %g); '
              'mean=%s std=%s'
              % ('OK' if agree else 'MISMATCH', dataset, len(mine), worst, args.tolerance,
                 ','.join('%.6f' % v for v in reference['mean']),
                 ','.join('%.6f' % v for v in reference['std'])))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
