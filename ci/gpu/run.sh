#!/usr/bin/env bash
# The GPU check, run from a folder made by ci/gpu/pack.sh on a machine with an NVIDIA GPU and
# PyTorch (no Bazel, no build tools, no network needed): the packed tests with their CUDA parts,
# our training step against PyTorch eager (fp16 AMP, channels_last, same GPU), and a short real
# training run (stop, resume, extend) with eval and report. Everything goes to RESULTS_DIR; the
# last lines printed are the summary (also RESULTS_DIR/summary.md). About 5 minutes on an H100.
#
# Usage: run.sh [--allow-cpu] [--heavy] [--dry-run] RESULTS_DIR
#   --allow-cpu  run without a GPU: the tests' CUDA parts skip, the benchmark and the training run
#                are tiny CPU ones (checks the pack and its libraries; its figures mean nothing)
#   --heavy      also run the long CPU-only tests (Bazel tag `exclusive`)
#   --dry-run    list what would run, run nothing
# Environment: PYTHON (default python3) whose torch provides LibTorch; RUN_JOBS (default 4)
# tests at once; BENCH_REPEAT (default 2) interleaved rounds per benchmark size.
set -uo pipefail
PACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ALLOW_CPU=0 HEAVY=0 DRY=0 RESULTS=
for arg in "$@"; do
  case "$arg" in
    --allow-cpu) ALLOW_CPU=1 ;;
    --heavy) HEAVY=1 ;;
    --dry-run) DRY=1 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown flag $arg" >&2; exit 2 ;;
    *) [[ -z $RESULTS ]] || { echo "run.sh: one RESULTS_DIR only" >&2; exit 2; }; RESULTS=$arg ;;
  esac
done
[[ -n $RESULTS ]] || { echo "usage: run.sh [--allow-cpu] [--heavy] [--dry-run] RESULTS_DIR" >&2; exit 2; }
[[ -f $PACK/tests.txt && -d $PACK/runfiles/resnet_forge ]] || { echo "run.sh: $PACK is not a pack made by ci/gpu/pack.sh" >&2; exit 2; }
mkdir -p "$RESULTS" && RESULTS=$(cd "$RESULTS" && pwd)
PYTHON=${PYTHON:-python3}
JOBS=${RUN_JOBS:-4}
REPEAT=${BENCH_REPEAT:-2}
R=$PACK/runfiles/resnet_forge
B=$R/tools

# ---------------------------------------------------------------- what runs, by mode
TESTS=()
while read -r kind path heavy; do
  [[ $kind == test ]] || continue
  ((heavy && !HEAVY)) && continue
  TESTS+=("$path")
done < "$PACK/tests.txt"

plan() {  # mode
  echo "pack: $PACK ($(tr '\n' ';' < "$PACK/BUILD_INFO"))"
  echo "tests (${#TESTS[@]}, $JOBS at once):"; printf '  %s\n' "${TESTS[@]}"
  if [[ $1 == gpu ]]; then
    echo "benchmark: resnet50 fp16 AMP channels_last cudnn.benchmark, batch 256 @ 224 px and 64 @ 128 px," \
      "ours (train_step_benchmark) vs PyTorch eager (bench/train_step_baseline.py), best of $REPEAT interleaved rounds"
    echo "training: tiny ImageNet (make_tiny_imagenet), valprep, shard, compute_stats, lr_find, train resnet50 on cuda" \
      "fp16 channels_last 3 epochs, SIGTERM after the first mid-epoch checkpoint, resume, --extend_epochs=4, eval, report"
  else
    echo "benchmark (CPU check only): resnet18 fp32 channels_last, batch 8 @ 64 px, ours vs PyTorch eager"
    echo "training (CPU check only): tiny ImageNet, valprep, shard, compute_stats, lr_find, train resnet18 on cpu" \
      "fp32 channels_last 2 epochs, SIGTERM after the first mid-epoch checkpoint, resume, --extend_epochs=3, eval, report"
  fi
}

START=$(date +%s)
elapsed() { echo $(($(date +%s) - START)); }
say() { echo "== [$(elapsed)s] $*"; }

# ---------------------------------------------------------------- environment
find_torch() {
  TORCH_DIR=$("$PYTHON" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>"$RESULTS/python_error.txt") || {
    echo "run.sh: '$PYTHON -c \"import torch\"' failed (set PYTHON=/path/to/python with PyTorch):"
    cat "$RESULTS/python_error.txt"
    return 1
  }
  TORCH_LIB=$TORCH_DIR/lib
}

environment() {
  say "environment"
  find_torch || return 1
  "$PYTHON" - > "$RESULTS/torch.txt" 2>&1 <<'EOF'
import torch, torchvision
print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(),
      "torchvision", torchvision.__version__)
print("cuda_available", int(torch.cuda.is_available()))
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print("device", p.name, f"{p.total_memory / 2**30:.0f}GiB", f"sm_{p.major}{p.minor}", "count", torch.cuda.device_count())
EOF
  cat "$RESULTS/torch.txt"
  echo "pack: $(tr '\n' ';' < "$PACK/BUILD_INFO")"
  echo "host: $(uname -srm); $(ldd --version 2>/dev/null | head -1); $(nproc) cores"
  if command -v nvidia-smi > /dev/null; then
    nvidia-smi > "$RESULTS/nvidia-smi.txt" 2>&1
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | sed 's/^/gpu: /'
  else
    echo "gpu: no nvidia-smi" | tee "$RESULTS/nvidia-smi.txt"
  fi
  MODE=cpu
  grep -q '^cuda_available 1' "$RESULTS/torch.txt" && MODE=gpu
  if [[ $MODE == cpu ]] && ((!ALLOW_CPU)); then
    echo "run.sh: torch sees no CUDA device here; this check needs a GPU (--allow-cpu runs the CPU check)"
    return 1
  fi
  [[ $MODE == cpu ]] && echo "mode: CPU (--allow-cpu): no figure below is a GPU figure"
  plan "$MODE" | sed 's/^/plan: /'
}

# Our binaries' libraries: the packed ones, LibTorch's from the torch installation. A packed
# library that this glibc cannot load gives way to the system's copy of the same name, if any;
# Debian's libstdc++ joins only if the system's is older than the build's.
link_libraries() {
  LIBDIR=$RESULTS/.lib
  rm -rf "$LIBDIR" && mkdir -p "$LIBDIR"
  for lib in "$PACK"/lib/*.so*; do
    name=${lib##*/}
    if LD_LIBRARY_PATH=$PACK/lib ldd "$lib" 2>&1 | grep -q "version .GLIBC_[0-9.]*' not found" &&
      ldconfig -p 2>/dev/null | grep -q "^[[:space:]]*$name "; then
      echo "libs: $name: the packed copy needs a newer glibc; using the system's"
      continue
    fi
    ln -s "$lib" "$LIBDIR/$name"
  done
  FORGE_LD=$LIBDIR:$TORCH_LIB
  if LD_LIBRARY_PATH=$FORGE_LD ldd "$B/train/train" 2>&1 | grep -q "GLIBCXX_[0-9.]*' not found\|CXXABI_[0-9.]*' not found"; then
    echo "libs: the system's libstdc++ is older than the build's; using the packed one"
    ln -s "$PACK"/lib/fallback/* "$LIBDIR/"
  fi
}
forge() { LD_LIBRARY_PATH=$FORGE_LD${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$@"; }

# Every packed binary must load with only the pack, torch's environment and the C library.
check_libraries() {
  say "libraries"
  SITE=$(dirname "$TORCH_DIR")
  LIB_PROBLEMS=0
  : > "$RESULTS/libraries.txt"
  while IFS= read -r -d '' f; do
    head -c4 "$f" | grep -q 'ELF' || continue
    out=$(forge ldd "$f" 2>&1)
    bad=$(grep 'not found' <<< "$out")
    outside=$(awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' <<< "$out" | while read -r name path; do
      case "$path" in "$PACK"/*|"$LIBDIR"/*|"$SITE"/*) continue ;; esac
      case "$name" in linux-vdso*|ld-linux*|libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*|libutil.so.*|libresolv.so.*|libstdc++.so.*|libgcc_s.so.*) continue ;; esac
      [[ -e $LIBDIR/$name ]] || echo "$name => $path (system)"
    done)
    if [[ -n $bad ]]; then
      LIB_PROBLEMS=$((LIB_PROBLEMS + 1))
      echo "${f#"$PACK"/}: $bad" | tee -a "$RESULTS/libraries.txt"
    fi
    [[ -n $outside ]] && echo "${f#"$PACK"/}: from the system: $outside" >> "$RESULTS/libraries.txt"
  done < <(find "$PACK/runfiles" -type f -print0)
  n_outside=$(grep -c 'from the system' "$RESULTS/libraries.txt")
  echo "libs: $LIB_PROBLEMS binaries with unresolved libraries; $n_outside using system libraries beyond the C library (see libraries.txt)"
}

# ---------------------------------------------------------------- tests
run_tests() {
  say "tests"
  mkdir -p "$RESULTS/tests"
  run_test() {  # path
    local p=$1 name=${1//\//_}
    local log=$RESULTS/tests/$name.log tmp=$RESULTS/tmp/$name
    rm -rf "$tmp" && mkdir -p "$tmp"
    local t0=$(date +%s) rc=0
    (cd "$R" && TEST_SRCDIR=$PACK/runfiles TEST_WORKSPACE=resnet_forge TEST_TMPDIR=$tmp \
      GTEST_OUTPUT=xml:$RESULTS/tests/$name.xml forge timeout 600 "$R/$p") > "$log" 2>&1 || rc=$?
    echo "$rc $(($(date +%s) - t0))" > "$RESULTS/tests/$name.rc"
    rm -rf "$tmp"
}
running=0
for p in "${TESTS[@]}"; do
  if ((running >= JOBS)); then wait -n; running=$((running - 1)); fi
  run_test "$p" &
  running=$((running + 1))
done
wait
TEST_ROWS=() TESTS_FAILED=0 TESTS_PASSED=0
for p in "${TESTS[@]}"; do
  name=${p//\//_}
  read -r rc secs < "$RESULTS/tests/$name.rc"
  log=$RESULTS/tests/$name.log
  ran=$(grep -c '^\[       OK \]\|^\[  FAILED  \] [^ ]* (' "$log")
  skipped=$(grep -c '^\[  SKIPPED \] [^ ]* (' "$log")
  cuda_skips=$(grep -A1 ': Skipped$' "$log" | grep -ci 'gpu\|cuda')
  if ((rc == 124)); then result=TIMEOUT
  elif ((rc != 0)); then result=FAIL
  elif [[ $MODE == gpu ]] && ((cuda_skips > 0)); then result="FAIL (CUDA part skipped on a GPU)"
  else result=PASS
  fi
  [[ $result == PASS ]] && TESTS_PASSED=$((TESTS_PASSED + 1)) || TESTS_FAILED=$((TESTS_FAILED + 1))
  TEST_ROWS+=("| $p | $result | $ran | $skipped | $cuda_skips | $secs |")
  echo "test: $p: $result ($ran ran, $skipped skipped, ${secs}s)"
done
}

# ---------------------------------------------------------------- training-step benchmark
run_bench() {
  say "training-step benchmark"
  mkdir -p "$RESULTS/bench"
  if [[ $MODE == gpu ]]; then
    CONFIGS=("resnet50 256 224" "resnet50 64 128")
    FLAGS=(--device=cuda --precision=fp16 --channels_last --cudnn_benchmark --warmup=10 --steps=30)
  else
    CONFIGS=("resnet18 8 64")
    FLAGS=(--device=cpu --precision=fp32 --channels_last --warmup=1 --steps=2)
  fi
  rate() { sed -n 's/.*images_per_sec=\([0-9.]*\).*/\1/p' "$1" | tail -1; }
  BENCH_ROWS=() BENCH_FAILED=0
  for c in "${CONFIGS[@]}"; do
    read -r model batch size <<< "$c"
    best_ours=0 best_py=0
    for i in $(seq "$REPEAT"); do
      tag=${model}_b${batch}_s${size}_r$i
      args=(--model="$model" --batch_size="$batch" --image_size="$size" "${FLAGS[@]}")
      forge timeout 300 "$B/train/train_step_benchmark" "${args[@]}" > "$RESULTS/bench/ours_$tag.log" 2>&1
      timeout 300 "$PYTHON" "$PACK/bench/train_step_baseline.py" "${args[@]}" > "$RESULTS/bench/pytorch_$tag.log" 2>&1
      ours=$(rate "$RESULTS/bench/ours_$tag.log") py=$(rate "$RESULTS/bench/pytorch_$tag.log")
      echo "bench: $tag: ours ${ours:-failed} img/s, pytorch ${py:-failed} img/s"
      best_ours=$(awk -v a="${ours:-0}" -v b="$best_ours" 'BEGIN{print (a > b) ? a : b}')
      best_py=$(awk -v a="${py:-0}" -v b="$best_py" 'BEGIN{print (a > b) ? a : b}')
    done
    if awk -v a="$best_ours" -v b="$best_py" 'BEGIN{exit !(a > 0 && b > 0)}'; then
      ratio=$(awk -v a="$best_ours" -v b="$best_py" 'BEGIN{printf "%.2fx", a / b}')
    else
      ratio=failed BENCH_FAILED=$((BENCH_FAILED + 1))
    fi
    BENCH_ROWS+=("| $model | $batch | $size | ${FLAGS[0]#--device=} | ${FLAGS[1]#--precision=} | $best_ours | $best_py | $ratio |")
  done
}

# ---------------------------------------------------------------- a short real training run
T=$RESULTS/train
TRAIN_ROWS=() TRAIN_FAILED=0
step() {  # label expected_rc command...: runs, logs to $T/<label>.log, records the outcome
  local label=$1 want=$2 rc=0 t0=$(date +%s)
  shift 2
  forge timeout 300 "$@" > "$T/$label.log" 2>&1 || rc=$?
  local result=OK
  [[ " $want " == *" $rc "* ]] || { result="FAIL (exit $rc, wanted $want)"; TRAIN_FAILED=$((TRAIN_FAILED + 1)); }
  TRAIN_ROWS+=("| $label | $result | $(($(date +%s) - t0)) | $(grep -v '^[IWEF][0-9]\{4\} ' "$T/$label.log" | tail -1 | cut -c1-140 | tr '|' '/') |")
  echo "train: $label: $result"
  [[ $result == OK ]]
}
training() {
  say "training run"
  if [[ $MODE == gpu ]]; then
    DEV=(--device=cuda) MODEL=resnet50 PRECISION=fp16 EPOCHS=3 EXTEND=4
  else
    DEV=(--device=cpu) MODEL=resnet18 PRECISION=fp32 EPOCHS=2 EXTEND=3
  fi
  local D=$T/data
  local TRAIN_ARGS=(--config="$R/tools/train/recipes/tiny_cpu.txtpb" --train="$T/shards/train.manifest.txtpb"
    --val="$T/shards/val.manifest.txtpb" --stats="$T/stats.txtpb" --run_dir="$T/run" "${DEV[@]}"
    --model="$MODEL" --precision="$PRECISION" --epochs="$EPOCHS"
    --set='channels_last=true;deterministic=false;checkpoint.every_steps=4')
  rm -rf "$T" && mkdir -p "$T"
  step make_tiny_imagenet 0 "$R/testdata/make_tiny_imagenet" --out_dir="$D" || return
  step valprep 0 "$B/valprep/valprep" --val_dir="$D/val" --labels="$D/LOC_val_solution.csv" \
    --synset_mapping="$D/LOC_synset_mapping.txt" --report="$T/valprep.txtpb" || return
  step shard_train 0 "$B/shard/shard" --data="$D/train" --out_dir="$T/shards" --num_shards=4 \
    --synset_mapping="$D/LOC_synset_mapping.txt" || return
  step shard_val 0 "$B/shard/shard" --data="$D/val" --out_dir="$T/shards" --num_shards=1 \
    --classes_from="$T/shards/train.manifest.txtpb" || return
  step compute_stats 0 "$B/compute_stats/compute_stats" --data="$T/shards/train.manifest.txtpb" \
    --out="$T/stats.txtpb" --resize_shorter=73 --center_crop=64 || return
  step lr_find 0 "$B/lr_find/lr_find" --config="$R/tools/train/recipes/tiny_cpu.txtpb" \
    --train="$T/shards/train.manifest.txtpb" --stats="$T/stats.txtpb" --start_lr=1e-4 --end_lr=1 --num_iter=20 \
    "${DEV[@]}" --set="model.name=\"$MODEL\";precision=\"$PRECISION\";channels_last=true;deterministic=false" \
    --out="$T/lr_curve.pb"
  # Stopped by SIGTERM right after its first mid-epoch checkpoint: exit 75 (0 if it finished first).
  local t0=$(date +%s) rc=0
  (LD_LIBRARY_PATH=$FORGE_LD exec "$B/train/train" "${TRAIN_ARGS[@]}") > "$T/train_stopped.log" 2>&1 &
  local pid=$!  # train's own: the signal must reach it, not a wrapper
  for _ in $(seq 3000); do
    [[ -e $T/run/checkpoints/mid_epoch.ckpt ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null  # a train that ignored SIGTERM for 2 minutes
  wait "$pid" || rc=$?
  local result="OK (exit 75)"
  if ((rc == 0)); then result="OK (finished before the signal: stop not exercised)"
  elif ((rc != 75)); then result="FAIL (exit $rc, wanted 75)"; TRAIN_FAILED=$((TRAIN_FAILED + 1))
  fi
  TRAIN_ROWS+=("| train, SIGTERM after the first mid-epoch checkpoint | $result | $(($(date +%s) - t0)) | $(ls "$T/run/checkpoints" 2>/dev/null | tr '\n' ' ') |")
  echo "train: stopped: $result"
  step train_resumed 0 "$B/train/train" "${TRAIN_ARGS[@]}" || return
  step train_extended 0 "$B/train/train" --resume --run_dir="$T/run" --train="$T/shards/train.manifest.txtpb" \
    --val="$T/shards/val.manifest.txtpb" "${DEV[@]}" --extend_epochs="$EXTEND" || return
  step eval 0 "$B/eval/eval" --checkpoint="$T/run/checkpoints/last.ckpt" --data="$T/shards/val.manifest.txtpb" \
    --resize_shorter=73 --center_crop=64 "${DEV[@]}" --out="$T/run/eval.pb" || return
  step report 0 "$B/report/report" --run_dir="$T/run" --eval="$T/run/eval.pb" --lr_curve="$T/lr_curve.pb" \
    --synset_mapping="$D/LOC_synset_mapping.txt" || return
  # Every recipe feature at once on the device (EMA's fused lerp, random erasing's noise, mixing,
  # progressive resizing with a batch of its own, TrivialAugmentWide, repeated augmentation), and
  # eval of the EMA weights.
  step train_recipe_features 0 "$B/train/train" "${TRAIN_ARGS[@]/--run_dir=*/--run_dir=$T/run_features}" --epochs=2 \
    --set="channels_last=true;deterministic=false;model.stochastic_depth=0.05;model.blurpool=true;\
mixing={mixup_alpha: 0.2 cutmix_alpha: 1.0};\
ema={decay: 0.9 warmup: true};best_phase=\"val_ema\";data.auto_augment={policy: \"trivial_augment_wide\"};\
data.random_erasing={probability: 0.25 random_value: true};data.repeated_augmentations=2;\
data.progressive_resizing={start_size: 32 end_size: 64 start_epoch: 1 end_epoch: 2 batch_sizes {size: 32 batch_size: 64}}" \
    || return
  step eval_ema 0 "$B/eval/eval" --checkpoint="$T/run_features/checkpoints/best.ckpt" --weights=ema \
    --data="$T/shards/val.manifest.txtpb" --resize_shorter=73 --center_crop=64 "${DEV[@]}" --out="$T/run_features/eval.pb" \
    || return
  # A data-parallel job of one process, as torchrun would start it: the store, the engine (NCCL on
  # the GPU, Open MPI on the CPU) and the Reducer's buckets, with nobody to average with.
  local ENGINE=nccl
  [[ $MODE == gpu ]] || ENGINE=mpi
  step "train_job_of_one_$ENGINE" 0 env MASTER_ADDR=127.0.0.1 MASTER_PORT=29517 RANK=0 WORLD_SIZE=1 LOCAL_RANK=0 \
    LOCAL_WORLD_SIZE=1 "$B/train/train" "${TRAIN_ARGS[@]/--run_dir=*/--run_dir=$T/run_job}" --epochs=1 \
    --dist_engine="$ENGINE" --dist_timeout=120
}

# ---------------------------------------------------------------- summary
summary() {
  say "done"
  {
    echo "# GPU check: $(date -u +%Y-%m-%dT%H:%M:%SZ), $((($(date +%s) - START))) s"
    echo
    echo "mode: $MODE$([[ $MODE == cpu ]] && echo ' (--allow-cpu: a check of the pack only; no figure here is a GPU figure)')"
    echo "$(head -1 "$RESULTS/torch.txt"); $(grep '^device' "$RESULTS/torch.txt" || echo 'device cpu')"
    echo "pack: $(tr '\n' ';' < "$PACK/BUILD_INFO")"
    echo "libraries: $LIB_PROBLEMS binaries with unresolved libraries, $n_outside using system libraries beyond the C library"
    echo
    echo "| test | result | tests run | skipped | skipped for CUDA | s |"
    echo "|---|---|---|---|---|---|"
    printf '%s\n' "${TEST_ROWS[@]}"
    echo
    echo "| model | batch | size | device | precision | ours img/s | PyTorch eager img/s | ours/PyTorch |"
    echo "|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${BENCH_ROWS[@]}"
    echo
    echo "| training run ($MODEL, $PRECISION, channels_last) | result | s | last line |"
    echo "|---|---|---|---|"
    printf '%s\n' "${TRAIN_ROWS[@]}"
    echo
    echo "tests: $TESTS_PASSED passed, $TESTS_FAILED failed; benchmark: ${#CONFIGS[@]} sizes, $BENCH_FAILED failed;" \
      "training: $TRAIN_FAILED failed steps; libraries: $LIB_PROBLEMS unresolved"
  } > "$RESULTS/summary.md"
  echo
  cat "$RESULTS/summary.md"
  ((TESTS_FAILED == 0 && BENCH_FAILED == 0 && TRAIN_FAILED == 0 && LIB_PROBLEMS == 0))
}

# ---------------------------------------------------------------- main
if ((DRY)); then
  plan "$( ((ALLOW_CPU)) && echo cpu || echo gpu)"
  # Without a GPU and in seconds: do the packed binaries load from the pack and torch alone?
  if find_torch > /dev/null 2>&1; then
    link_libraries && check_libraries
    exit $((LIB_PROBLEMS > 0))
  fi
  echo "dry run: $PYTHON has no torch: library check skipped"
  exit 0
fi
main() {
  environment || return 1
  link_libraries
  check_libraries
  run_tests
  run_bench
  training
  summary
}
main 2>&1 | tee "$RESULTS/run.log"
exit "${PIPESTATUS[0]}"
