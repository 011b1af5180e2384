#!/usr/bin/env bash
# Benchmarks the training input pipeline (decode + RandomResizedCrop 224 + flip, uint8 batches
# of 64) against the decode-only ceiling and against PyTorch's DataLoader with torchvision/PIL,
# side by side, in one run, on the same photographs and the same cores:
#
#   data:     files   the real-photograph set of ci/bench (make_photos.py, 400 ImageNet-sized
#                     camera-photo crops), cached in ${XDG_CACHE_HOME:-$HOME/.cache}/resnet-forge/bench-photos
#             shards  the same photos packed by //tools/shard --max_side=400 --quality=90
#   runs:     ceiling   //lib/data:decode_ceiling_benchmark: plain libjpeg-turbo (TurboJPEG
#                       tjDecompress2 to RGB), one thread, bytes in memory, on files and shards
#             ours      //lib/data:loader_benchmark --threads=1 and --threads=$(nproc), files and shards
#             baseline  ci/bench/loader_baseline.py --workers=1 and --workers=$(nproc), files
#
# Prints a table (images/s, images/s per core) and the ratios the design targets
# (the project's design targets): ours/ceiling per core >= 0.85, ours on files /
# baseline >= 2.5, ours on shards / baseline on files >= 3.5. Timings are reported, never
# asserted; every configuration runs BENCH_REPEAT rounds (interleaved) and the fastest counts.
# Exit code: 0 when every run succeeded (whatever the timings), 1 when a step failed.
#
#   ci/bench/bench_loader.sh
#
# Environment: BENCH_REPEAT (default 5 rounds), BENCH_EPOCHS (default 10 passes over the 400
# images per run), BENCH_WAIT_QUIET (default 300: seconds to wait for other processes to use
# less than 0.2 cores before starting; 0 does not wait), BENCH_PHOTOS / BENCH_PHOTO_QUALITY (as
# in bench_compute_stats.sh), BENCH_KEEP_TMP=1 keeps the work folder.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../env.sh"  # PYTHON: the project's environment (ci/setup.sh)
REPO="$(cd "$HERE/../.." && pwd)"
cd "$REPO"

NPROC="$(nproc)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/resnet-forge"
N="${BENCH_PHOTOS:-400}"
QUALITY="${BENCH_PHOTO_QUALITY:-90}"
REPEAT="${BENCH_REPEAT:-5}"
EPOCHS="${BENCH_EPOCHS:-10}"
WAIT_QUIET="${BENCH_WAIT_QUIET:-300}"
PHOTOS="$CACHE/bench-photos"
if [[ "$N" != 400 || "$QUALITY" != 90 ]]; then PHOTOS="$CACHE/bench-photos-n$N-q$QUALITY"; fi
RESULTS="$CACHE/bench-results/loader-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RESULTS"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/bench_loader.XXXXXX")"
cleanup() { if [[ "${BENCH_KEEP_TMP:-0}" != 1 ]]; then rm -rf "$TMP"; fi; }
trap cleanup EXIT

log() { echo "bench_loader: $*" >&2; }
# Cores kept busy by other processes: the CPU time used during one second in which this
# script runs nothing (the load average would also count our own previous run).
busy_cores() {
  local a b
  a=($(head -n 1 /proc/stat))
  sleep 1
  b=($(head -n 1 /proc/stat))
  awk -v u="$((b[1] + b[2] + b[3] + b[6] + b[7] - a[1] - a[2] - a[3] - a[6] - a[7]))" \
    -v i="$((b[4] + b[5] - a[4] - a[5]))" 'BEGIN { printf "%.2f", (u + i > 0 ? u / (u + i) : 0) * '"$NPROC"' }'
}

log "installing the packages that carry the source photographs"
"$HERE/install_photos.sh"

log "building //lib/data:loader_benchmark //lib/data:decode_ceiling_benchmark"
bazel build //lib/data:loader_benchmark //lib/data:decode_ceiling_benchmark 2>"$TMP/build.log" || {
  cat "$TMP/build.log" >&2
  log "bazel build failed"
  exit 1
}
# Run copies of the binaries: the bazel-bin symlink follows whichever build ran last, and
# someone else may rebuild them during the runs.
BAZEL_BIN="$(bazel info bazel-bin 2>/dev/null)"
for b in loader_benchmark decode_ceiling_benchmark; do
  cp "$BAZEL_BIN/lib/data/$b" "$TMP/$b"
  if ldd "$TMP/$b" 2>/dev/null | grep -q "not found"; then
    log "a copy of $b cannot find its shared libraries; running it from bazel-bin"
    ln -sf "$BAZEL_BIN/lib/data/$b" "$TMP/$b"
  fi
done
LOADER="$TMP/loader_benchmark"
CEILING="$TMP/decode_ceiling_benchmark"

if [[ ! -f "$PHOTOS/.manifest.json" ]]; then
  log "generating $N photos (quality $QUALITY) into $PHOTOS"
  "$PYTHON" "$HERE/make_photos.py" --out_dir="$PHOTOS" --n="$N" --quality="$QUALITY" --force
fi

# Shards of the same photos, as a user would make them. Without a working shard tool the
# shard runs are left out (and the report says so).
SHARDS=""
log "sharding the photos: bazel run //tools/shard -- --data=$PHOTOS --out_dir=$TMP/shards --max_side=400 --quality=90"
if bazel run //tools/shard -- --data="$PHOTOS" --out_dir="$TMP/shards" --max_side=400 \
  --quality=90 >"$TMP/shard.stdout" 2>"$TMP/shard.log"; then
  SHARDS="$(ls "$TMP"/shards/*.manifest.txtpb 2>/dev/null | head -n 1 || true)"
  cp "$TMP/shard.stdout" "$RESULTS/shard.stdout"
fi
if [[ -z "$SHARDS" ]]; then
  tail -n 20 "$TMP/shard.log" >&2 || true
  log "WARNING: //tools/shard failed or wrote no manifest: the shard runs are left out"
fi

# Read everything once so that all runs read from the page cache.
cat "$PHOTOS"/*/* >/dev/null 2>&1 || true
if [[ -n "$SHARDS" ]]; then cat "$TMP"/shards/* >/dev/null; fi

# Other processes (builds) on a 2-core machine halve any number: wait for a quiet machine.
if [[ "$WAIT_QUIET" -gt 0 ]]; then
  waited=0
  while busy="$(busy_cores)" && awk -v b="$busy" 'BEGIN { exit !(b >= 0.2) }' &&
    [[ "$waited" -lt "$WAIT_QUIET" ]]; do
    if [[ "$waited" -eq 0 ]]; then
      log "waiting up to ${WAIT_QUIET}s for other processes to leave the CPU (they keep $busy cores busy)"
    fi
    sleep 9
    waited=$((waited + 10))
  done
fi

{
  echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $NPROC cores"
  echo "versions: $("$PYTHON" -c 'import torch, torchvision, PIL; from PIL import features; print("torch", torch.__version__, "torchvision", torchvision.__version__, "Pillow", PIL.__version__, "with libjpeg-turbo", features.version("libjpeg_turbo"))'); ours: libjpeg-turbo $(dpkg-query -W -f='${Version}' libjpeg62-turbo 2>/dev/null || echo '?') (Debian)"
  "$PYTHON" - "$PHOTOS/.manifest.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
s, p = m['stats'], m['params']
print('files: %d images from %d photographs, mean %.1f KB, mean %.0fx%.0f px, quality %d 4:2:0'
      % (s['images'], len(m['sources']), s['mean_bytes'] / 1e3, s['mean_width'], s['mean_height'],
         p['quality']))
EOF
  if [[ -n "$SHARDS" ]]; then echo "shards: $(tail -n 1 "$TMP/shard.stdout")"; fi
  echo "epochs per run: $EPOCHS; rounds: $REPEAT; batch 64; size 224"
  echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$RESULTS/environment.txt"
BUSY="$(busy_cores)"
echo "cores busy with other processes before the runs: $BUSY" | tee -a "$RESULTS/environment.txt"
if awk -v l="$BUSY" 'BEGIN { exit !(l >= 0.2) }'; then
  log "WARNING: other processes keep $BUSY cores busy: the timings are unreliable"
fi

RUNS="$RESULTS/runs.tsv"
: >"$RUNS"
# value KEY FILE: the value of KEY=value in the one-line summary in FILE.
value() { tr ' ' '\n' <"$2" | sed -n "s/^$1=//p" | head -n 1; }
record() {  # data tool threads images seconds busy_cores
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RUNS"
}

run_ceiling() {  # data path round
  local run="$RESULTS/$1-ceiling-r$3" load
  load="$(busy_cores)"
  # As much work per timed round as a loader run: EPOCHS passes over the images.
  "$CEILING" --data="$2" --rounds=1 --epochs="$EPOCHS" >"$run.stdout" 2>"$run.stderr" || {
    cat "$run.stderr" >&2
    log "decode_ceiling_benchmark failed on $1"
    exit 1
  }
  log "$(cat "$run.stdout")"
  local images
  images="$(value decodes_per_round "$run.stdout")"
  for kind in turbojpeg decode_image train_transform; do
    local rate
    rate="$(value "${kind}_images_per_second" "$run.stdout")"
    record "$1" "$kind" 1 "$images" "$(awk -v n="$images" -v r="$rate" 'BEGIN { printf "%.4f", n / r }')" "$load"
  done
}

run_ours() {  # data path threads round
  local run="$RESULTS/$1-ours-t$3-r$4" load
  load="$(busy_cores)"
  "$LOADER" --data="$2" --threads="$3" --epochs="$EPOCHS" >"$run.stdout" 2>"$run.stderr" || {
    cat "$run.stderr" >&2
    log "loader_benchmark failed on $1 --threads=$3"
    exit 1
  }
  log "$(cat "$run.stdout")"
  record "$1" ours "$3" "$(value images "$run.stdout")" "$(value seconds "$run.stdout")" "$load"
}

run_baseline() {  # data path workers round
  local run="$RESULTS/$1-baseline-w$3-r$4" load
  load="$(busy_cores)"
  "$PYTHON" "$HERE/loader_baseline.py" --data="$2" --workers="$3" --epochs="$EPOCHS" \
    --out="$run.json" >"$run.stdout" 2>"$run.stderr" || {
    cat "$run.stderr" >&2
    log "loader_baseline.py failed on $1 --workers=$3"
    exit 1
  }
  log "$(cat "$run.stdout")"
  record "$1" baseline "$3" "$(value images "$run.stdout")" "$(value seconds "$run.stdout")" "$load"
}

THREADS=(1)
if [[ "$NPROC" -gt 1 ]]; then THREADS+=("$NPROC"); fi
# Rounds interleave the tools so that a drift in machine load hits all alike.
for round in $(seq 1 "$REPEAT"); do
  run_ceiling files "$PHOTOS" "$round"
  if [[ -n "$SHARDS" ]]; then run_ceiling shards "$SHARDS" "$round"; fi
  for t in "${THREADS[@]}"; do
    run_ours files "$PHOTOS" "$t" "$round"
    if [[ -n "$SHARDS" ]]; then run_ours shards "$SHARDS" "$t" "$round"; fi
    run_baseline files "$PHOTOS" "$t" "$round"
  done
done

echo
"$PYTHON" "$HERE/bench_loader_report.py" --runs="$RUNS" --markdown="$RESULTS/results.md" \
  | tee "$RESULTS/report.txt"
echo "results: $RESULTS"
