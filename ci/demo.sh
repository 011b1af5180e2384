#!/usr/bin/env bash
# Sets up the machine (ci/setup.sh), then runs the pipeline on the embedded tiny ImageNet:
# generate the dataset, valprep (flat val/ -> val/<wnid>/), shard (train/ and val/ into record
# shards), compute_stats (mean/std of the train shards), lr_find (LR range test with the recipe),
# train (ResNet-18, tiny CPU recipe), eval, predict and report; ends by exporting the model as
# safetensors and predicting one image from that file. A few minutes on two cores.
# Usage: ci/demo.sh [OUT_DIR]   (default: ./demo-run)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(realpath -m "${1:-demo-run}")

ci/setup.sh
bazel build //testdata:make_tiny_imagenet //tools/valprep //tools/shard //tools/compute_stats \
  //tools/lr_find //tools/train //tools/eval //tools/predict //tools/report //tools/export
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

echo "== compute_stats: mean and std of the train shards, seen at the recipe's 64 px"
"$BIN/tools/compute_stats/compute_stats" --data="$OUT/shards/train.manifest.txtpb" --out="$OUT/stats.txtpb" \
  --resize_shorter=73 --center_crop=64

echo "== lr_find: LR range test of the same recipe, 1e-4 to 1 in 60 steps"
"$BIN/tools/lr_find/lr_find" --config=tools/train/recipes/tiny_cpu.txtpb --train="$OUT/shards/train.manifest.txtpb" \
  --stats="$OUT/stats.txtpb" --start_lr=1e-4 --end_lr=1 --num_iter=60 --device=cpu --out="$OUT/lr_curve.pb"

echo "== train: ResNet-18 from scratch, tools/train/recipes/tiny_cpu.txtpb, peak LR from lr_find"
rm -rf "$OUT/run"
"$BIN/tools/train/train" --config=tools/train/recipes/tiny_cpu.txtpb --train="$OUT/shards/train.manifest.txtpb" \
  --val="$OUT/shards/val.manifest.txtpb" --stats="$OUT/stats.txtpb" --run_dir="$OUT/run" --device=cpu \
  --lr_from="$OUT/lr_curve.pb"

echo "== eval: the best checkpoint on val"
"$BIN/tools/eval/eval" --checkpoint="$OUT/run/checkpoints/best.ckpt" --data="$OUT/shards/val.manifest.txtpb" \
  --resize_shorter=73 --center_crop=64 --device=cpu --out="$OUT/run/eval.pb"

echo "== predict: the best checkpoint's top-3 for one val class (JSON lines)"
"$BIN/tools/predict/predict" --checkpoint="$OUT/run/checkpoints/best.ckpt" \
  --synset_mapping="$OUT/data/LOC_synset_mapping.txt" --images="$OUT/data/val/n01440764" --top_k=3 --format=jsonl \
  --device=cpu

echo "== report: CSV, Markdown, curves, classification report"
"$BIN/tools/report/report" --run_dir="$OUT/run" --eval="$OUT/run/eval.pb" --lr_curve="$OUT/lr_curve.pb" \
  --synset_mapping="$OUT/data/LOC_synset_mapping.txt"
sed -n '1,3p' "$OUT/run/report/logs.md"

echo "== export: the best checkpoint as torchvision-compatible safetensors; predict one image from it"
"$BIN/tools/export/export" --checkpoint="$OUT/run/checkpoints/best.ckpt" \
  --synset_mapping="$OUT/data/LOC_synset_mapping.txt" --out="$OUT/run/model.safetensors"
images=("$OUT"/data/val/n01440764/*)
"$BIN/tools/predict/predict" --checkpoint="$OUT/run/model.safetensors" \
  --synset_mapping="$OUT/data/LOC_synset_mapping.txt" --images="${images[0]}" --top_k=3 --device=cpu

echo "== done: outputs in $OUT"
ls -1 "$OUT"
