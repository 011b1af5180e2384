#!/usr/bin/env bash
# The fault matrix: what the tools do when the disk fills, when they are killed with kill -9, when
# a byte of a file they wrote flips, and when two trains share a run directory. Runs on the
# embedded tiny ImageNet in a scratch directory (mktemp, removed at the end) and prints a Markdown
# table: fault | tool/file | trials | outputs lost | result. Exits 1 if any trial lost or damaged an
# output or a tool misbehaved (crashed, left temporary files, failed without naming the file).
#
#   1. Disk full while train saves a checkpoint, writes train_log.pb or its TensorBoard events,
#      while shard writes a shard and while report writes its outputs: a small tmpfs mounted on the
#      output directory (root; falls back to `ulimit -f` per-file limits where mounting is refused,
#      and says so in the table). The tool must exit non-zero naming the file, earlier outputs must
#      stay readable, and a rerun once space is back (the tmpfs grown) must end as an undisturbed run.
#   2. kill -9 of shard, valprep and report at seeded random moments within an undisturbed run's
#      duration, then the same command rerun: outputs byte-identical to an undisturbed run's (for
#      valprep: the same tree, every image once in its class folder).
#   3. One flipped byte (seeded offsets) in shard records, indexes, manifests, checkpoints,
#      train_log.pb, model summaries, eval results, stats, TensorBoard events and config.txtpb, read
#      by the tool that reads each: formats with CRCs must be refused naming file and offset; the
#      others are refused naming the file or tolerated, as their READMEs say. train's auto-resume
#      must skip damaged checkpoints for the newest good one and end as an undisturbed run.
#   4. A second train on a run directory in use is refused.
#
# Usage: ci/faults.sh [--quick] [--seed=N] [--kills=N] [--flips=N] [--only=kill,flip,resume,full,lock]
#                     [--no_tmpfs] [--keep]
#   --quick   5 kills per tool and 1 offset per file kind instead of 20 and 3
#   --keep    keep the scratch directory (its path is logged)
# Needs ci/setup.sh to have run; builds the tools it uses. About 10 minutes on two cores
# (--quick: about 5), mostly training the tiny ResNet-18 again after each fault.
set -euo pipefail
cd "$(dirname "$0")/.."
bazel build //testdata:make_tiny_imagenet //tools/valprep //tools/shard //tools/compute_stats \
  //tools/train //tools/eval //tools/report
BIN=$(bazel info bazel-bin 2>/dev/null)
exec python3 ci/faults/faults.py --bin="$BIN" --repo="$PWD" "$@"
