#!/usr/bin/env bash
# shard throughput on the real-photograph set (see README.md), with and without re-encoding
# (--max_side=400 --quality=90), at 1 and $(nproc) threads: wall time of the whole command,
# every image decoded to validate it. Timings are reported, never asserted.
set -euo pipefail
cd "$(dirname "$0")/../.."
PHOTOS="${XDG_CACHE_HOME:-$HOME/.cache}/resnet-forge/bench-photos"
[[ -d "$PHOTOS" ]] || { echo "no photo set at $PHOTOS: run ci/bench/bench_loader.sh or bench_compute_stats.sh once" >&2; exit 1; }
bazel build //tools/shard >&2
SHARD="$(bazel info bazel-bin 2>/dev/null)/tools/shard/shard"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
images=$(find "$PHOTOS" -name '*.JPEG' | wc -l)
printf "| threads | max_side | images | seconds | images/s | images/s/core | shard bytes |\n|---|---|---|---|---|---|---|\n"
for threads in 1 "$(nproc)"; do
  for max_side in 0 400; do
    rm -rf "$OUT/shards"
    start=$(date +%s.%N)
    line=$("$SHARD" --data="$PHOTOS" --out_dir="$OUT/shards" --threads="$threads" --max_side="$max_side" \
      --quality=90 --num_shards=2 --progress=false 2>/dev/null)
    seconds=$(echo "$(date +%s.%N) - $start" | bc -l)
    bytes=$(sed -n 's/.* bytes=\([0-9]*\).*/\1/p' <<<"$line")
    awk -v t="$threads" -v m="$max_side" -v n="$images" -v s="$seconds" -v b="$bytes" \
      'BEGIN{printf "| %d | %d | %d | %.2f | %.0f | %.0f | %d |\n", t, m, n, s, n/s, n/s/t, b}'
  done
done
