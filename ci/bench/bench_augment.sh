#!/usr/bin/env bash
# Benchmarks TrivialAugmentWide and RandAugment in the training transform against torchvision's,
# single-threaded, per image, side by side on the same photographs:
#
#   data:  the real-photograph set of ci/bench (make_photos.py, 400 ImageNet-sized camera-photo
#          crops), cached in ${XDG_CACHE_HOME:-$HOME/.cache}/resnet-forge/bench-photos
#   ours:      //lib/data:augment_benchmark (bytes in memory, one thread): TrainTransform
#              (decode the crop, RandomResizedCrop 224, flip) alone, + TrivialAugmentWide,
#              + RandAugment, on the same crops (paired); each of the 14 ops alone at a
#              middle magnitude on 224x224 crops; all figures interleaved image by image
#   baseline:  ci/bench/augment_baseline.py: the same figures with PIL and torchvision
#              (Image.open + convert("RGB"), Compose([RandomResizedCrop(224),
#              RandomHorizontalFlip(), <policy>, PILToTensor()]), _apply_op), one torch thread
#
# Prints a table of microseconds per image (fastest round and median) with torchvision / ours,
# and the TrivialAugmentWide ratio. Timings are reported, never asserted; BENCH_REPEAT rounds
# run interleaved (ours, baseline, ours, ...) and the fastest counts.
# Exit code: 0 when every run succeeded (whatever the timings), 1 when a step failed.
#
#   ci/bench/bench_augment.sh
#
# Environment: BENCH_REPEAT (default 5 rounds), BENCH_EPOCHS (default 2 passes over the 400
# images per figure and round), BENCH_WAIT_QUIET (default 300: seconds to wait for other
# processes to use less than 0.2 cores before starting; 0 does not wait), BENCH_PHOTOS /
# BENCH_PHOTO_QUALITY (as in bench_compute_stats.sh). Results land in
# ~/.cache/resnet-forge/bench-results/augment-<time>/.
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
EPOCHS="${BENCH_EPOCHS:-2}"
WAIT_QUIET="${BENCH_WAIT_QUIET:-300}"
PHOTOS="$CACHE/bench-photos"
if [[ "$N" != 400 || "$QUALITY" != 90 ]]; then PHOTOS="$CACHE/bench-photos-n$N-q$QUALITY"; fi
RESULTS="$CACHE/bench-results/augment-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RESULTS"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/bench_augment.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

log() { echo "bench_augment: $*" >&2; }
# Cores kept busy by other processes: the CPU time used during one second in which this
# script runs nothing.
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

log "building //lib/data:augment_benchmark"
bazel build //lib/data:augment_benchmark 2>"$TMP/build.log" || {
  cat "$TMP/build.log" >&2
  log "bazel build failed"
  exit 1
}
# Run a copy: the bazel-bin symlink follows whichever build ran last.
BAZEL_BIN="$(bazel info bazel-bin 2>/dev/null)"
cp "$BAZEL_BIN/lib/data/augment_benchmark" "$TMP/augment_benchmark"
OURS="$TMP/augment_benchmark"
if ldd "$OURS" 2>/dev/null | grep -q "not found"; then OURS="$BAZEL_BIN/lib/data/augment_benchmark"; fi

if [[ ! -f "$PHOTOS/.manifest.json" ]]; then
  log "generating $N photos (quality $QUALITY) into $PHOTOS"
  "$PYTHON" "$HERE/make_photos.py" --out_dir="$PHOTOS" --n="$N" --quality="$QUALITY" --force
fi
cat "$PHOTOS"/*/* >/dev/null 2>&1 || true  # Page cache (both sides read the files first anyway).

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
  echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $NPROC cores, L3 $(lscpu | sed -n 's/^L3 cache: *//p' | head -n 1)"
  echo "versions: $("$PYTHON" -c 'import torch, torchvision, PIL; print("torch", torch.__version__, "torchvision", torchvision.__version__, "Pillow", PIL.__version__)')"
  echo "ours: built from $(git rev-parse --short HEAD)$(git diff --quiet -- lib/data || echo ' + working tree changes in lib/data')"
  echo "photos: $PHOTOS ($(find "$PHOTOS" -name '*.JPEG' | wc -l) files); epochs per figure and round: $EPOCHS; rounds: $REPEAT"
  echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$RESULTS/environment.txt"

RUNS="$RESULTS/runs.tsv"
: >"$RUNS"
# record TOOL ROUND BUSY SUMMARY_FILE: one line per figure of the run's key=value summary.
record() {
  tr ' ' '\n' <"$4" | sed -n 's/^\(\(train\|op_\)[A-Za-z_]*\)_us=\(.*\)$/\1 \3/p' |
    while read -r key value; do printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$key" "$value"; done >>"$RUNS"
}

for round in $(seq 1 "$REPEAT"); do
  busy="$(busy_cores)"
  "$OURS" --data="$PHOTOS" --rounds=1 --epochs="$EPOCHS" >"$RESULTS/ours-r$round.stdout" \
    2>"$RESULTS/ours-r$round.stderr" || {
    cat "$RESULTS/ours-r$round.stderr" >&2
    log "augment_benchmark failed"
    exit 1
  }
  log "$(cut -c1-160 "$RESULTS/ours-r$round.stdout")..."
  record ours "$round" "$busy" "$RESULTS/ours-r$round.stdout"
  busy="$(busy_cores)"
  "$PYTHON" "$HERE/augment_baseline.py" --data="$PHOTOS" --rounds=1 --epochs="$EPOCHS" \
    --out="$RESULTS/baseline-r$round.json" >"$RESULTS/baseline-r$round.stdout" \
    2>"$RESULTS/baseline-r$round.stderr" || {
    cat "$RESULTS/baseline-r$round.stderr" >&2
    log "augment_baseline.py failed"
    exit 1
  }
  log "$(cut -c1-160 "$RESULTS/baseline-r$round.stdout")..."
  record baseline "$round" "$busy" "$RESULTS/baseline-r$round.stdout"
done

echo
"$PYTHON" - "$RUNS" "$RESULTS/results.md" <<'EOF' | tee "$RESULTS/report.txt"
import collections, statistics, sys
runs = collections.defaultdict(list)  # (tool, key) -> [(us, busy)]
by_round = collections.defaultdict(dict)  # (tool, round) -> {key: us}
keys = []
for line in open(sys.argv[1]):
    tool, rnd, busy, key, value = line.rstrip('\n').split('\t')
    runs[tool, key].append((float(value), float(busy)))
    by_round[tool, rnd][key] = float(value)
    if key not in keys:
        keys.append(key)
fast = {k: min(v)[0] for k, v in runs.items()}
med = {k: statistics.median(x for x, _ in v) for k, v in runs.items()}
names = {'train': 'TrainTransform (decode + RandomResizedCrop 224 + flip)',
         'train_ta': '+ TrivialAugmentWide', 'train_ra': '+ RandAugment (2 ops, magnitude 9)'}
rows = ['| figure | ours us/image | torchvision us/image | torchvision / ours | median: ours | torchvision |',
        '|---|---|---|---|---|---|']
for key in keys:
    ours, base = fast.get(('ours', key)), fast.get(('baseline', key))
    if ours is None or base is None:
        continue
    label = names.get(key, key[3:] + ' alone, 224x224' if key.startswith('op_') else key)
    rows.append('| %s | %.1f | %.1f | %.2fx | %.1f | %.1f |' % (
        label, ours, base, base / ours, med['ours', key], med['baseline', key]))
ops = [k for k in keys if k.startswith('op_')]
lines = rows + ['']
added = {}
for tool in ('ours', 'baseline'):
    # The policies' own cost: each round times the three transforms on the same crops, so the
    # per-round differences are paired; their median.
    for policy in ('train_ta', 'train_ra'):
        added[tool, policy] = statistics.median(
            r[policy] - r['train'] for (t, _), r in by_round.items() if t == tool)
    lines.append('%s: TrivialAugmentWide adds %.1f us per image, RandAugment %.1f us (median of '
                 'the rounds\' paired differences); the 14 ops alone average %.1f us' % (
                     'ours' if tool == 'ours' else 'torchvision', added[tool, 'train_ta'],
                     added[tool, 'train_ra'], statistics.mean(fast[tool, k] for k in ops)))
lines.append('TrivialAugmentWide, torchvision / ours: the whole transform %.2fx (fastest), '
             '%.2fx (median); the policy\'s own cost %.2fx' % (
                 fast['baseline', 'train_ta'] / fast['ours', 'train_ta'],
                 med['baseline', 'train_ta'] / med['ours', 'train_ta'],
                 added['baseline', 'train_ta'] / added['ours', 'train_ta']))
busiest = max(b for v in runs.values() for _, b in v)
lines.append('cores busy with other processes before a run: at most %.2f' % busiest)
if busiest >= 0.2:
    lines.append('WARNING: other processes used the CPU during some runs: timings are unreliable')
text = '\n'.join(lines)
print(text)
open(sys.argv[2], 'w').write(text + '\n')
EOF
echo "results: $RESULTS"
