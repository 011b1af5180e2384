#!/usr/bin/env python3
"""Checks report's classification report against scikit-learn's, outside the test suite.

The C++ tests (lib/report:classification_test, tools/report:report_test) compare report's
output with golden files; this script makes those golden files with scikit-learn from confusion
matrices it generates, so the goldens are an independent computation, not report's own output.

  python3 -m venv /tmp/skl && /tmp/skl/bin/pip install scikit-learn
  /tmp/skl/bin/python tools/report/testdata/check_sklearn.py           # goldens still agree?
  /tmp/skl/bin/python tools/report/testdata/check_sklearn.py --write   # rewrite them
  # and the built tool on a generated 1000-class matrix (1M cells):
  bazel build //tools/report && /tmp/skl/bin/python tools/report/testdata/check_sklearn.py \
      --binary=bazel-bin/tools/report/report --classes=1000

Each case is an EvalResult in text format (<case>.eval.txtpb) and sklearn's report for it at
2 and 4 digits (<case>.digits<d>.txt); labels are "wnid (name)", or the WNID for a nameless
class, as report prints them. The golden case of report_test (testdata/golden/eval.txtpb with
testdata/golden/synset_mapping.txt) is checked too.
"""
import argparse
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
from sklearn.metrics import classification_report

HERE = pathlib.Path(__file__).resolve().parent


def report(confusion, labels, digits):
    n = len(labels)
    rows, cols = np.nonzero(confusion)
    counts = confusion[rows, cols]
    y_true = np.repeat(rows, counts)
    y_pred = np.repeat(cols, counts)
    return classification_report(y_true, y_pred, labels=list(range(n)), target_names=labels,
                                 digits=digits, zero_division=0)


def eval_text(confusion, classes):
    """An EvalResult in protobuf text format: classes (wnid, name) and the confusion matrix."""
    lines = []
    for i, (wnid, name) in enumerate(classes):
        name_field = ' name: "%s"' % name.replace('\\', '\\\\').replace('"', '\\"') if name else ''
        lines.append('classes { index: %d wnid: "%s"%s }' % (i, wnid, name_field))
    lines.append('confusion: [%s]' % ', '.join(str(int(v)) for v in confusion.ravel()))
    return '\n'.join(lines) + '\n'


def label(wnid, name):
    return '%s (%s)' % (wnid, name) if name else wnid


def random_case(n, seed, zero_rows=(), zero_cols=()):
    rng = np.random.default_rng(seed)
    confusion = rng.integers(0, 4, size=(n, n)) * (rng.random((n, n)) < 0.3)
    confusion += np.diag(rng.integers(0, 60, size=n))
    for r in zero_rows:
        confusion[r, :] = 0
    for c in zero_cols:
        confusion[:, c] = 0
    # Names repeat, as in ImageNet ("crane" twice); one class has none.
    names = ['crane' if i % 7 == 3 else ('' if i == n - 1 else 'class %d, synonym' % (i % 11)) for i in range(n)]
    classes = [('n%08d' % (1000000 + 37 * i), names[i]) for i in range(n)]
    return confusion.astype(np.int64), classes


def cases():
    yield 'random40', *random_case(40, seed=7, zero_rows=(5, 17), zero_cols=(9, 17))
    yield 'random150', *random_case(150, seed=11, zero_rows=(0,), zero_cols=(149,))
    # Ties at the rounding boundary: 1/8 = 0.125 and 3/8 = 0.375 print as 0.12 and 0.38.
    tie = np.array([[1, 7, 0], [0, 3, 5], [0, 0, 8]], dtype=np.int64)
    yield 'ties', tie, [('n00000001', 'a'), ('n00000002', 'b'), ('n00000003', '')]


def golden_case():
    """The 4-class eval of report_test, with names from its synset mapping."""
    mapping = {}
    for line in (HERE / 'golden' / 'synset_mapping.txt').read_text().splitlines():
        if line.strip():
            wnid, _, name = line.partition(' ')
            mapping[wnid] = name.strip()
    text = (HERE / 'golden' / 'eval.txtpb').read_text()
    wnids = [part.split('"')[1] for part in text.split('wnid:')[1:]]
    values = [int(v) for v in text.split('confusion: [')[1].split(']')[0].split(',')]
    n = len(wnids)
    confusion = np.array(values, dtype=np.int64).reshape(n, n)
    return confusion, [label(w, mapping.get(w, '')) for w in wnids]


def check_binary(binary, n):
    confusion, classes = random_case(n, seed=2024, zero_rows=(3,), zero_cols=(4,))
    labels = [label(w, name) for w, name in classes]
    with tempfile.TemporaryDirectory() as tmp:
        run = pathlib.Path(tmp) / 'run'
        run.mkdir()
        (run / 'train_log.pb').write_bytes(b'')  # an empty TrainLog
        eval_path = pathlib.Path(tmp) / 'eval.txtpb'
        eval_path.write_text(eval_text(confusion, classes))
        ok = True
        for digits in (2, 4):
            subprocess.run([binary, '--run_dir=%s' % run, '--eval=%s' % eval_path,
                            '--digits=%d' % digits], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            got = (run / 'report' / 'classification_report.txt').read_text()
            want = report(confusion, labels, digits)
            same = got == want
            ok &= same
            print('binary, %d classes, digits=%d: %s' % (n, digits, 'same as sklearn' if same else 'DIFFERS'))
            if not same:
                sys.stdout.writelines(line for line in __import__('difflib').unified_diff(
                    want.splitlines(True), got.splitlines(True), 'sklearn', 'report'))
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--write', action='store_true', help='rewrite the golden files')
    parser.add_argument('--binary', help='also run this report binary on a generated matrix')
    parser.add_argument('--classes', type=int, default=1000, help='classes of that matrix')
    args = parser.parse_args()
    out = HERE / 'sklearn'
    ok = True
    files = {}
    for name, confusion, classes in cases():
        files[out / ('%s.eval.txtpb' % name)] = eval_text(confusion, classes)
        labels = [label(w, n) for w, n in classes]
        for digits in (2, 4):
            files[out / ('%s.digits%d.txt' % (name, digits))] = report(confusion, labels, digits)
    confusion, labels = golden_case()
    files[HERE / 'golden' / 'expected' / 'classification_report.txt'] = report(confusion, labels, 2)
    for path, text in files.items():
        if args.write:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        elif not path.exists() or path.read_text() != text:
            print('%s: differs from scikit-learn' % path.relative_to(HERE))
            ok = False
    print('%d golden files %s' % (len(files), 'written' if args.write else ('agree with scikit-learn' if ok else 'DIFFER')))
    if args.binary:
        ok &= check_binary(args.binary, args.classes)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
