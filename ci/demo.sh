#!/usr/bin/env bash
# Sets up the machine (ci/setup.sh), then runs the pipeline on the embedded tiny ImageNet:
# generate the dataset, valprep (flat val/ -> val/<wnid>/), shard (train/ and val/ into record
# shards), compute_stats (mean/std of the train shards).
# Usage: ci/demo.sh [OUT_DIR]   (default: ./demo-run)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(realpath -m "${1:-demo-run}")

ci/setup.sh
bazel build //testdata:make_tiny_imagenet //tools/valprep //tools/shard //tools/compute_stats
BIN=$(bazel info bazel-bin 2>/dev/null)

echo "== dataset: $OUT/data"
rm -rf "$OUT/data"
mkdir -p "$OUT"
"$BIN/testdata/make_tiny_imagenet" --out_dir="$OUT/data"

echo "== valprep: flat val/ to val/<wnid>/"
"$BIN/tools/valprep/valprep" --val_dir="$OUT/data/val" --labels="$OUT/data/LOC_val_solution.csv" \
  --synset_mapping="$OUT/data/LOC_synset_mapping.txt" --report="$OUT/valprep.txtpb"
echo "== valprep again: nothing left to do"
"$BIN/tools/valprep/valprep" --val_dir="$OUT/data/val" --labels="$OUT/data/LOC_val_solution.csv" \
  --report="$OUT/valprep_rerun.txtpb"

echo "== shard: train/ and val/ into record shards (val keeps train's class indices)"
rm -rf "$OUT/shards"
"$BIN/tools/shard/shard" --data="$OUT/data/train" --out_dir="$OUT/shards" --num_shards=4 \
  --synset_mapping="$OUT/data/LOC_synset_mapping.txt"
"$BIN/tools/shard/shard" --data="$OUT/data/val" --out_dir="$OUT/shards" --num_shards=1 \
  --classes_from="$OUT/shards/train.manifest.txtpb"
"$BIN/tools/shard/shard" --verify="$OUT/shards/train.manifest.txtpb"

echo "== compute_stats: mean and std of the train shards (resize 256, center crop 224)"
"$BIN/tools/compute_stats/compute_stats" --data="$OUT/shards/train.manifest.txtpb" --out="$OUT/stats.txtpb"

echo "== done: outputs in $OUT"
ls -1 "$OUT"
