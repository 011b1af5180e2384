#!/usr/bin/env bash
# Data-parallel training on CPUs against one process, on this machine: two processes (Open MPI,
# loopback) of one LibTorch thread each, against one process of two threads, on the same global
# batch of random images (//tools/train:data_parallel_benchmark: ResNet-50, batch 32, 128 px, SGD
# as train steps). The two-process job runs twice: averaging its gradients (what train does) and
# with --communicate=false (the same work per process, no averaging), so that
#   share of the step spent communicating = 1 - rate(averaging) / rate(no averaging).
# Configurations alternate in rounds, in one run. Prints a Markdown table; timings are reported,
# never asserted. Exit code 1 when a run failed.
#
#   ci/bench/bench_data_parallel.sh
#
# Environment: BENCH_REPEAT (default 3 rounds), BENCH_MODEL (resnet50), BENCH_BATCH (32),
# BENCH_SIZE (128), BENCH_STEPS (5 timed steps after 2 untimed).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../env.sh"
REPO="$(cd "$HERE/../.." && pwd)"
cd "$REPO"

REPEAT="${BENCH_REPEAT:-3}"
FLAGS=(--model="${BENCH_MODEL:-resnet50}" --batch_size="${BENCH_BATCH:-32}" --image_size="${BENCH_SIZE:-128}"
       --steps="${BENCH_STEPS:-5}" --device=cpu)
MPIRUN=(mpirun -np 2 --allow-run-as-root --oversubscribe --bind-to none
        --mca btl self,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo)

bazel build -c opt //tools/train:data_parallel_benchmark >&2
BINARY="$REPO/bazel-bin/tools/train/data_parallel_benchmark"
RUNS="$(mktemp)"
trap 'rm -f "$RUNS"' EXIT

rate() { sed -n 's/.*images_per_sec=\([0-9.]*\).*/\1/p' | tail -n1; }
run() {  # label command...
  local label="$1"
  shift
  local value
  value="$("$@" 2>/dev/null | rate)"
  if [[ -z "$value" ]]; then
    echo "bench_data_parallel: $label failed: $*" >&2
    exit 1
  fi
  printf '%s\t%s\n' "$label" "$value" >>"$RUNS"
  echo "bench_data_parallel: $label: $value images/s" >&2
}
for ((round = 1; round <= REPEAT; ++round)); do
  run "1 process x 2 threads" "$BINARY" "${FLAGS[@]}" --threads=2
  run "2 processes x 1 thread, averaging (train)" "${MPIRUN[@]}" "$BINARY" "${FLAGS[@]}" --threads=1
  run "2 processes x 1 thread, no averaging" "${MPIRUN[@]}" "$BINARY" "${FLAGS[@]}" --threads=1 --communicate=false
done

echo "$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; ${FLAGS[*]}"
"$PYTHON" - "$RUNS" <<'PY'
import collections, statistics, sys
runs = collections.OrderedDict()
for line in open(sys.argv[1]):
    label, rate = line.rstrip('\n').split('\t')
    runs.setdefault(label, []).append(float(rate))
labels = list(runs)
base = max(runs[labels[0]])
print('| configuration | images/s (fastest) | median | / 1 process x 2 threads |')
print('|---|---|---|---|')
for label in labels:
    print('| %s | %.2f | %.2f | %.2f |' % (label, max(runs[label]), statistics.median(runs[label]), max(runs[label]) / base))
averaging, alone = max(runs[labels[1]]), max(runs[labels[2]])
print()
print('Share of the two-process step spent communicating (exposed, after overlap): %.0f%%' % (100 * (1 - averaging / alone)))
PY
