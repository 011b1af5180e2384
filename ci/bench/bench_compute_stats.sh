#!/usr/bin/env bash
# Benchmarks tools/compute_stats against the way people compute channel mean/std today
# (torchvision ImageFolder + Resize(256) + CenterCrop(224) + ToTensor + DataLoader; see
# ci/bench/stats_baseline.py), side by side, in one run, on the same files and the same cores:
#
#   datasets: photos  ImageNet-like crops of real camera photographs (ci/bench/make_photos.py),
#                     cached in ${XDG_CACHE_HOME:-$HOME/.cache}/resnet-forge/bench-photos
#             tiny    the synthetic tiny ImageNet of //testdata:make_tiny_imagenet (train/),
#                     pathological files included (both tools skip the unreadable ones)
#   runs:     compute_stats --threads=1 and --threads=$(nproc);
#             the baseline with --workers=1 and --workers=$(nproc)
#
# Prints a table (images/s, images/s per core, ratio ours/baseline) and checks that every run
# agrees on the image count and on mean/std to 1e-4. Timings are reported, never asserted.
# Exit code: 0 when the results agree, 1 when they do not or a step fails.
#
#   ci/bench/bench_compute_stats.sh
#
# Environment: BENCH_PHOTOS (default 400 images), BENCH_PHOTO_QUALITY (default 90; a
# non-default size or quality gets its own cache folder), BENCH_REPEAT (default 3 rounds; the
# fastest round of each configuration is reported), BENCH_KEEP_TMP=1 keeps the work folder.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../env.sh"  # PYTHON: the project's environment (ci/setup.sh)
REPO="$(cd "$HERE/../.." && pwd)"
cd "$REPO"

NPROC="$(nproc)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/resnet-forge"
N="${BENCH_PHOTOS:-400}"
QUALITY="${BENCH_PHOTO_QUALITY:-90}"
REPEAT="${BENCH_REPEAT:-3}"
PHOTOS="$CACHE/bench-photos"
if [[ "$N" != 400 || "$QUALITY" != 90 ]]; then PHOTOS="$CACHE/bench-photos-n$N-q$QUALITY"; fi
RESIZE=256
CROP=224
RESULTS="$CACHE/bench-results/compute_stats-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RESULTS"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/bench_compute_stats.XXXXXX")"
cleanup() { if [[ "${BENCH_KEEP_TMP:-0}" != 1 ]]; then rm -rf "$TMP"; fi; }
trap cleanup EXIT

log() { echo "bench_compute_stats: $*" >&2; }

log "installing the packages that carry the source photographs"
"$HERE/install_photos.sh"

log "building //tools/compute_stats //testdata:make_tiny_imagenet"
bazel build //tools/compute_stats //testdata:make_tiny_imagenet 2>"$TMP/build.log" || {
  cat "$TMP/build.log" >&2
  log "bazel build failed"
  exit 1
}
# The bazel-bin symlink follows whichever output base built last (someone else's build may
# repoint it, or rebuild the binary, during the runs): ask this build for its path and run a
# copy of the binary, unless the copy cannot find its shared libraries.
BAZEL_BIN="$(bazel info bazel-bin 2>/dev/null)"
OURS="$BAZEL_BIN/tools/compute_stats/compute_stats"
cp "$OURS" "$TMP/compute_stats"
if ! ldd "$TMP/compute_stats" 2>/dev/null | grep -q "not found"; then OURS="$TMP/compute_stats"; fi

if [[ ! -f "$PHOTOS/.manifest.json" ]]; then
  log "generating $N photos (quality $QUALITY) into $PHOTOS"
  "$PYTHON" "$HERE/make_photos.py" --out_dir="$PHOTOS" --n="$N" --quality="$QUALITY" --force
fi

log "generating the tiny synthetic dataset"
bazel run //testdata:make_tiny_imagenet -- --out_dir="$TMP/tiny" 2>"$TMP/tiny.log" || {
  cat "$TMP/tiny.log" >&2
  log "make_tiny_imagenet failed"
  exit 1
}
TINY="$TMP/tiny/train"

# Read every file once so that all runs read from the page cache.
cat "$PHOTOS"/*/* "$TINY"/*/* >/dev/null 2>&1 || true

{
  echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $NPROC cores"
  echo "versions: $("$PYTHON" -c 'import torch, torchvision, PIL; from PIL import features; print("torch", torch.__version__, "torchvision", torchvision.__version__, "Pillow", PIL.__version__, "libjpeg-turbo", features.version("libjpeg_turbo"))')"
  "$PYTHON" - "$PHOTOS/.manifest.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
s, p = m['stats'], m['params']
print('photos: %d images from %d photographs, mean %.1f KB, mean %.0fx%.0f px, quality %d 4:2:0'
      % (s['images'], len(m['sources']), s['mean_bytes'] / 1e3, s['mean_width'], s['mean_height'],
         p['quality']))
EOF
  "$PYTHON" "$HERE/make_photos.py" --report_dir="$PHOTOS" | tail -n 1 | sed 's/^make_photos: /photos: Pillow /'
  echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$RESULTS/environment.txt"
LOAD1="$(cut -d' ' -f1 /proc/loadavg)"
if awk -v l="$LOAD1" 'BEGIN { exit !(l > 0.5) }'; then
  log "WARNING: load average $LOAD1: other processes use the CPU, the timings are unreliable"
fi

RUNS="$RESULTS/runs.tsv"
: >"$RUNS"
now() { date +%s.%N; }

run_ours() {  # dataset dir threads round
  local name="$1" dir="$2" threads="$3" run="$RESULTS/$1-ours-t$3-r$4" start end
  start="$(now)"
  "$OURS" --data="$dir" --threads="$threads" --out="$run.json" \
    --resize_shorter="$RESIZE" --center_crop="$CROP" >"$run.stdout" 2>"$run.stderr" || {
    cat "$run.stderr" >&2
    log "compute_stats failed on $name --threads=$threads"
    exit 1
  }
  end="$(now)"
  log "$(cat "$run.stdout")"
  printf '%s\tours\t%s\t%s\t%s\n' "$name" "$threads" \
    "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", b - a }')" "$run.json" >>"$RUNS"
}

run_baseline() {  # dataset dir workers round [extra flags]
  local name="$1" workers="$3" run="$RESULTS/$1-baseline-w$3-r$4" dir="$2"
  shift 4
  "$PYTHON" "$HERE/stats_baseline.py" --data="$dir" --workers="$workers" \
    --resize_shorter="$RESIZE" --center_crop="$CROP" --out="$run.json" "$@" \
    >"$run.stdout" 2>"$run.stderr" || {
    cat "$run.stderr" >&2
    log "stats_baseline.py failed on $name --workers=$workers"
    exit 1
  }
  log "$(cat "$run.stdout")"
  printf '%s\tbaseline\t%s\t\t%s\n' "$name" "$workers" "$run.json" >>"$RUNS"
}

THREADS=(1)
if [[ "$NPROC" -gt 1 ]]; then THREADS+=("$NPROC"); fi
# Rounds interleave the tools so that a drift in machine load hits both alike; the report
# keeps the fastest round of each configuration.
for round in $(seq 1 "$REPEAT"); do
  for t in "${THREADS[@]}"; do
    run_ours photos "$PHOTOS" "$t" "$round"
    run_baseline photos "$PHOTOS" "$t" "$round"
  done
  for t in "${THREADS[@]}"; do
    run_ours tiny "$TINY" "$t" "$round"
    run_baseline tiny "$TINY" "$t" "$round" --skip_bad
  done
done

echo
status=0
"$PYTHON" "$HERE/bench_report.py" --runs="$RUNS" --tolerance=1e-4 --markdown="$RESULTS/results.md" \
  | tee "$RESULTS/report.txt" || status=$?
echo "results: $RESULTS"
exit "$status"
