#!/usr/bin/env python3
"""Reads event files written by lib/train/tensorboard.h with TensorBoard's own loader.

Not part of the test suite (TensorBoard comes from PyPI): run it by hand after changing the
event writer.

    pip install tensorboard
    bazel run //lib/train:write_sample_events -- /tmp/tb_sample
    python3 lib/train/testdata/check_tensorboard.py /tmp/tb_sample

Checks that EventAccumulator finds every scalar of the sample run once, in order, with the
values write_sample_events.cc wrote (as float32), i.e. that the resume rewrite left no
duplicated or stale step. Also reads each file with TensorBoard's raw record reader, which checks
every CRC. Exits non-zero on the first mismatch.
"""
import math
import os
import struct
import sys

from tensorboard.backend.event_processing import event_accumulator
from tensorboard.backend.event_processing import event_file_loader


def expected_value(tag, step):
    if tag == "train/loss":
        return 2.5 * math.exp(-0.05 * step)
    return 0.1 * (step + 1)


def as_float32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    logdir = argv[1]
    failures = []

    files = sorted(f for f in os.listdir(logdir) if "tfevents" in f)
    print("event files:", files)
    for name in files:
        path = os.path.join(logdir, name)
        # RawEventFileLoader uses TensorBoard's record reader, which verifies the CRCs.
        records = list(event_file_loader.RawEventFileLoader(path).Load())
        events = list(event_file_loader.EventFileLoader(path).Load())
        print(f"  {name}: {len(records)} records, first file_version={events[0].file_version!r}")
        if events[0].file_version != "brain.Event:2":
            failures.append(f"{name}: first record is not file_version brain.Event:2")

    # purge_orphaned_data=False: EventAccumulator would otherwise hide a step logged twice
    # (it drops earlier events when steps go backwards); other readers do not, so the files
    # themselves must hold each step once.
    acc = event_accumulator.EventAccumulator(
        logdir, size_guidance={event_accumulator.SCALARS: 0}, purge_orphaned_data=False)
    acc.Reload()
    tags = sorted(acc.Tags()["scalars"])
    print("scalar tags:", tags)
    if tags != ["train/loss", "train/lr", "val/top1"]:
        failures.append(f"unexpected tags {tags}")
    for tag in ("train/loss", "train/lr"):
        scalars = acc.Scalars(tag)
        steps = [s.step for s in scalars]
        print(f"  {tag}: {len(scalars)} points, steps {steps[0]}..{steps[-1]}, "
              f"first {scalars[0].value:.6f}, last {scalars[-1].value:.6f}")
        if steps != list(range(40)):
            failures.append(f"{tag}: steps {steps}, expected 0..39 once each")
            continue
        for s in scalars:
            want = as_float32(expected_value(tag, s.step))
            if s.value != want:
                failures.append(f"{tag} step {s.step}: {s.value!r}, expected {want!r}")
    top1 = acc.Scalars("val/top1")
    print(f"  val/top1: {[(s.step, s.value) for s in top1]}")
    if [(s.step, s.value) for s in top1] != [(39, 76.5)]:
        failures.append(f"val/top1: {top1}")

    if failures:
        for failure in failures[:20]:
            print("FAIL:", failure)
        return 1
    print("OK: TensorBoard reads every scalar once, with the written values")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
