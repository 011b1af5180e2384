#!/usr/bin/env bash
# How the loader's rate scales with its threads, and whether a shallow prefetch starves them:
# //lib/data:loader_benchmark (Loader + TrainTransform 224 + flip, shuffled batches of 64, one
# BatchBufferPool) on the photos of ci/bench, for threads 1 and $(nproc) x prefetch 1 and 4,
# in interleaved rounds, in one run. With BENCH_OTHER_LOADER=<path to another build of
# loader_benchmark> (e.g. one built from an older commit) the same configurations of that
# binary run in the same rounds, labelled BENCH_OTHER_LABEL (default "other build").
#
# Prints a Markdown table: fastest and median images/s per configuration, and the speed-up over
# the same binary at 1 thread, prefetch 4. Timings are reported, never asserted. Exit code 0
# when every run succeeded, 1 when a step failed.
#
#   ci/bench/bench_loader_threads.sh
#   ci/bench/bench_loader_threads.sh --report RUNS.tsv   # the table again from a run's runs.tsv
#
# Environment: BENCH_REPEAT (default 5 rounds), BENCH_EPOCHS (default 5 passes over the 400
# photos per run), BENCH_WAIT_QUIET (default 300: seconds to wait for other processes to use less
# than 0.2 cores; 0 does not wait), BENCH_OTHER_LOADER, BENCH_OTHER_LABEL.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../env.sh"  # FORGE_CACHE, PYTHON
REPO="$(cd "$HERE/../.." && pwd)"
cd "$REPO"

# report RUNS.tsv: the Markdown table of the runs (label, threads, prefetch, images/s, busy cores).
report() {
"$PYTHON" - "$1" <<'EOF'
import collections, statistics, sys
runs = collections.defaultdict(list)
busy = collections.defaultdict(list)
order = []
for line in open(sys.argv[1]):
    label, threads, prefetch, rate, others = line.rstrip('\n').split('\t')
    key = (label, int(threads), int(prefetch))
    if key not in runs:
        order.append(key)
    runs[key].append(float(rate))
    busy[key].append(float(others))
print('| loader | threads | prefetch | images/s (fastest) | median | fastest / same loader at 1 thread, prefetch 4 | busy cores before the fastest run |')
print('|---|---|---|---|---|---|---|')
for key in order:
    label, threads, prefetch = key
    base = runs.get((label, 1, 4))
    ratio = '%.2f' % (max(runs[key]) / max(base)) if base else ''
    print('| %s | %d | %d | %.1f | %.1f | %s | %.2f |' % (label, threads, prefetch, max(runs[key]),
          statistics.median(runs[key]), ratio,
          busy[key][runs[key].index(max(runs[key]))]))
EOF
}
if [[ "${1:-}" == "--report" ]]; then
  report "$2"
  exit 0
fi

NPROC="$(nproc)"
REPEAT="${BENCH_REPEAT:-5}"
EPOCHS="${BENCH_EPOCHS:-5}"
WAIT_QUIET="${BENCH_WAIT_QUIET:-300}"
OTHER="${BENCH_OTHER_LOADER:-}"
OTHER_LABEL="${BENCH_OTHER_LABEL:-other build}"
PHOTOS="$FORGE_CACHE/bench-photos"
RESULTS="$FORGE_CACHE/bench-results/loader-threads-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RESULTS"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/bench_loader_threads.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

log() { echo "bench_loader_threads: $*" >&2; }
# Cores kept busy by other processes during one second in which this script runs nothing.
busy_cores() {
  local a b
  a=($(head -n 1 /proc/stat))
  sleep 1
  b=($(head -n 1 /proc/stat))
  awk -v u="$((b[1] + b[2] + b[3] + b[6] + b[7] - a[1] - a[2] - a[3] - a[6] - a[7]))" \
    -v i="$((b[4] + b[5] - a[4] - a[5]))" 'BEGIN { printf "%.2f", (u + i > 0 ? u / (u + i) : 0) * '"$NPROC"' }'
}

log "building //lib/data:loader_benchmark"
bazel build //lib/data:loader_benchmark 2>"$TMP/build.log" || {
  cat "$TMP/build.log" >&2
  log "bazel build failed"
  exit 1
}
# A copy: someone else may rebuild bazel-bin during the runs.
cp "$(bazel info bazel-bin 2>/dev/null)/lib/data/loader_benchmark" "$TMP/loader_benchmark"
BINARIES=("this tree=$TMP/loader_benchmark")
if [[ -n "$OTHER" ]]; then BINARIES+=("$OTHER_LABEL=$OTHER"); fi

if [[ ! -f "$PHOTOS/.manifest.json" ]]; then
  "$HERE/install_photos.sh"
  log "generating the photos into $PHOTOS"
  "$PYTHON" "$HERE/make_photos.py" --out_dir="$PHOTOS" --n=400 --quality=90 --force
fi
cat "$PHOTOS"/*/* >/dev/null 2>&1 || true  # page cache

if [[ "$WAIT_QUIET" -gt 0 ]]; then
  waited=0
  while busy="$(busy_cores)" && awk -v b="$busy" 'BEGIN { exit !(b >= 0.2) }' &&
    [[ "$waited" -lt "$WAIT_QUIET" ]]; do
    if [[ "$waited" -eq 0 ]]; then log "waiting up to ${WAIT_QUIET}s for a quiet machine ($busy cores busy)"; fi
    sleep 9
    waited=$((waited + 10))
  done
fi
{
  echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $NPROC cores"
  echo "photos: $PHOTOS; epochs per run: $EPOCHS; rounds: $REPEAT; batch 64; size 224"
} | tee "$RESULTS/environment.txt"

RUNS="$RESULTS/runs.tsv"
: >"$RUNS"
THREADS=(1)
if [[ "$NPROC" -gt 1 ]]; then THREADS+=("$NPROC"); fi
for round in $(seq 1 "$REPEAT"); do
  for entry in "${BINARIES[@]}"; do
    label="${entry%%=*}"
    binary="${entry#*=}"
    for t in "${THREADS[@]}"; do
      for p in 1 4; do
        busy="$(busy_cores)"
        out="$RESULTS/${label// /_}-t$t-p$p-r$round.stdout"
        "$binary" --data="$PHOTOS" --threads="$t" --prefetch="$p" --epochs="$EPOCHS" >"$out" \
          2>"${out%.stdout}.stderr" || {
          cat "${out%.stdout}.stderr" >&2
          log "$label failed at --threads=$t --prefetch=$p"
          exit 1
        }
        rate="$(tr ' ' '\n' <"$out" | sed -n 's/^images_per_second=//p')"
        log "$label threads=$t prefetch=$p round $round: $rate images/s (others kept $busy cores busy)"
        printf '%s\t%s\t%s\t%s\t%s\n' "$label" "$t" "$p" "$rate" "$busy" >>"$RUNS"
      done
    done
  done
done

report "$RUNS" | tee "$RESULTS/results.md"
echo "results: $RESULTS"
