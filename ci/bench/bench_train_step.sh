#!/usr/bin/env bash
# Training-step images/s on the CPU: our train step (LibTorch, C++) against PyTorch eager in
# Python, same model, batch, image size, threads and memory format, interleaved in one run.
# PyTorch runs twice: as users run it, and with the glibc malloc settings our tools make
# themselves (lib/util/memory.h) given through the environment, to show where the gain comes from.
# Usage: ci/bench/bench_train_step.sh   (BENCH_MODEL, BENCH_BATCH, BENCH_STEPS, BENCH_REPEAT, BENCH_SIZES)
set -euo pipefail
cd "$(dirname "$0")/../.."
source ci/env.sh  # PYTHON: the project's environment (ci/setup.sh)
MODEL=${BENCH_MODEL:-resnet50}
BATCH=${BENCH_BATCH:-32}
STEPS=${BENCH_STEPS:-5}
REPEAT=${BENCH_REPEAT:-2}
THREADS=$(nproc)
bazel build //tools/train:train_step_benchmark >&2
OURS="$(bazel info bazel-bin 2>/dev/null)/tools/train/train_step_benchmark"
load=$(cut -d' ' -f1 /proc/loadavg)
if awk "BEGIN{exit !($load > 0.5)}"; then echo "warning: load average $load: other work shares the CPU" >&2; fi

rate() { sed -n 's/.*images_per_sec=\([0-9.]*\).*/\1/p'; }
printf "| model | size | batch | threads | channels_last | forge img/s | pytorch img/s | forge/pytorch | pytorch, same malloc settings, img/s | forge/that |\n"
printf "|---|---|---|---|---|---|---|---|---|---|\n"
for size in ${BENCH_SIZES:-224 128}; do
  for cl in 0 1; do
    best_ours=0 best_py=0 best_tuned=0
    for _ in $(seq "$REPEAT"); do
      flag=(); [[ $cl == 1 ]] && flag=(--channels_last)
      ours=$("$OURS" --model="$MODEL" --batch_size="$BATCH" --image_size="$size" --threads="$THREADS" \
        --steps="$STEPS" "${flag[@]}" | rate)
      py=$("$PYTHON" ci/bench/train_step_baseline.py --model="$MODEL" --batch_size="$BATCH" --image_size="$size" \
        --threads="$THREADS" --steps="$STEPS" "${flag[@]}" | rate)
      tuned=$(MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647 MALLOC_TOP_PAD_=536870912 \
        "$PYTHON" ci/bench/train_step_baseline.py --model="$MODEL" --batch_size="$BATCH" --image_size="$size" \
        --threads="$THREADS" --steps="$STEPS" "${flag[@]}" | rate)
      best_ours=$(awk "BEGIN{print ($ours > $best_ours) ? $ours : $best_ours}")
      best_tuned=$(awk "BEGIN{print ($tuned > $best_tuned) ? $tuned : $best_tuned}")
      best_py=$(awk "BEGIN{print ($py > $best_py) ? $py : $best_py}")
    done
    ratio=$(awk "BEGIN{printf \"%.2f\", $best_ours / $best_py}")
    ratio_tuned=$(awk "BEGIN{printf \"%.2f\", $best_ours / $best_tuned}")
    printf "| %s | %d | %d | %d | %d | %.1f | %.1f | %sx | %.1f | %sx |\n" "$MODEL" "$size" "$BATCH" "$THREADS" "$cl" \
      "$best_ours" "$best_py" "$ratio" "$best_tuned" "$ratio_tuned"
  done
done
