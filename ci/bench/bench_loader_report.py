#!/usr/bin/env python3
"""Table and target ratios for ci/bench/bench_loader.sh.

Reads a TSV of runs (data, tool, threads, images, seconds, cores kept busy by other processes
just before the run; a configuration may appear in several rounds, the table shows its
fastest) where data is `files`
or `shards` and tool is one of
    turbojpeg        decode-only ceiling: plain libjpeg-turbo, 1 thread, bytes in memory
    decode_image     our DecodeImage, same conditions (for reference)
    train_transform  our TrainTransform without the loader, same conditions (for reference)
    ours             //lib/data:loader_benchmark (Loader + TrainTransform), --threads
    baseline         loader_baseline.py (torchvision DataLoader), num_workers
and prints the table and the DESIGN.md targets:
    ours / ceiling, per core, same data          >= 0.85
    ours on files / baseline on files, same N    >= 2.5
    ours on shards / baseline on files, same N   >= 3.5
Timings are reported, never asserted: the exit code is 0 whatever they are.

    bench_loader_report.py --runs=runs.tsv [--markdown=results.md]
"""

import argparse
import statistics
import sys

TOOL_NAMES = {
    'turbojpeg': 'ceiling: libjpeg-turbo tjDecompress2 (in memory)',
    'decode_image': 'our DecodeImage (in memory)',
    'train_transform': 'our TrainTransform, no loader (in memory)',
    'ours': 'our Loader + TrainTransform',
    'baseline': 'torchvision DataLoader',
}
TOOL_ORDER = ['turbojpeg', 'decode_image', 'train_transform', 'ours', 'baseline']
TARGETS = {'ceiling': 0.85, 'baseline': 2.5, 'shards': 3.5}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--runs', required=True)
    parser.add_argument('--markdown', help='also write the tables as Markdown here')
    parser.add_argument('--busy', type=float, default=0.2,
                        help='warn about runs that started with other processes using this many '
                        'cores or more')
    args = parser.parse_args()

    groups = {}
    with open(args.runs) as f:
        for line in f:
            if not line.strip():
                continue
            data, tool, threads, images, seconds, busy = line.rstrip('\n').split('\t')
            run = {'data': data, 'tool': tool, 'threads': int(threads), 'images': int(images),
                   'seconds': float(seconds), 'busy': float(busy)}
            groups.setdefault((data, tool, run['threads']), []).append(run)
    best = {}
    for key, runs in groups.items():
        fastest = dict(min(runs, key=lambda r: r['seconds']))
        fastest['rounds'] = len(runs)
        fastest['rate'] = fastest['images'] / fastest['seconds']
        fastest['per_core'] = fastest['rate'] / fastest['threads']
        # The median round too: on a shared VM rounds vary by 10-15% even when quiet.
        fastest['median_rate'] = statistics.median(r['images'] / r['seconds'] for r in runs)
        best[key] = fastest

    rows = []
    for data in ('files', 'shards'):
        for tool in TOOL_ORDER:
            for key in sorted(k for k in best if k[0] == data and k[1] == tool):
                r = best[key]
                rows.append([data, TOOL_NAMES.get(tool, tool), str(r['threads']), str(r['images']),
                             '%.3f' % r['seconds'], '%.1f' % r['rate'], '%.1f' % r['per_core'],
                             '%.1f' % r['median_rate'], '%.2f' % r['busy']])
    header = ['data', 'what', 'threads', 'images', 'seconds', 'images/s', 'images/s/core',
              'median images/s', 'other busy cores']

    def rate(data, tool, threads, key='rate'):
        r = best.get((data, tool, threads))
        return r and r[key]

    # (name, data, threads, numerator (data, tool), denominator (data, tool, threads), per core,
    # target)
    specs = []
    thread_counts = sorted({k[2] for k in best if k[1] == 'ours'})
    for data in ('files', 'shards'):
        for t in thread_counts:
            specs.append(('ours / ceiling, per core', data, t, (data, 'ours'),
                          (data, 'turbojpeg', 1), True, TARGETS['ceiling']))
    for t in thread_counts:
        specs.append(('ours on files / baseline on files', 'files', t, ('files', 'ours'),
                      ('files', 'baseline', t), False, TARGETS['baseline']))
    for t in thread_counts:
        specs.append(('ours on shards / baseline on files', 'shards', t, ('shards', 'ours'),
                      ('files', 'baseline', t), False, TARGETS['shards']))
    ratio_rows = []
    for name, data, t, (num_data, num_tool), den, per_core, target in specs:
        values = []
        for key in ('rate', 'median_rate'):
            num = rate(num_data, num_tool, t, key)
            base = rate(*den, key=key)
            values.append(num / (t if per_core else 1) / base if num and base else None)
        met = None if values[0] is None else values[0] >= target
        ratio_rows.append([name, data, str(t)] +
                          ['n/a' if v is None else '%.2f' % v for v in values] +
                          ['>= %.2f' % target, 'not run' if met is None else ('yes' if met else 'no')])
    ratio_header = ['ratio', 'data', 'threads', 'fastest', 'median', 'target', 'met (fastest)']

    def table(head, body):
        widths = [max(len(h), *(len(row[i]) for row in body)) if body else len(h)
                  for i, h in enumerate(head)]
        lines = ['  '.join(h.ljust(w) for h, w in zip(head, widths))]
        lines += ['  '.join(c.ljust(w) for c, w in zip(row, widths)) for row in body]
        return '\n'.join(lines)

    rounds = sorted({r['rounds'] for r in best.values()})
    print('fastest of %s round(s) per configuration; threads = loader --threads or DataLoader '
          'num_workers; the ceiling and the in-memory rows are single-threaded'
          % '/'.join(map(str, rounds)))
    print(table(header, rows))
    print()
    print(table(ratio_header, ratio_rows))
    busy = [r for r in best.values() if r['busy'] >= args.busy]
    if busy:
        print('\nWARNING: %d of the fastest runs started while other processes kept >= %.2f '
              'cores busy (max %.2f): rerun on a quiet machine'
              % (len(busy), args.busy, max(r['busy'] for r in busy)))
    if args.markdown:
        with open(args.markdown, 'w') as f:
            for head, body in ((header, rows), (ratio_header, ratio_rows)):
                f.write('| ' + ' | '.join(head) + ' |\n')
                f.write('|' + '|'.join('---' for _ in head) + '|\n')
                for row in body:
                    f.write('| ' + ' | '.join(row) + ' |\n')
                f.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
