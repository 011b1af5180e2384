#!/usr/bin/env bash
# Runs tests under AddressSanitizer + UndefinedBehaviorSanitizer (.bazelrc's asan and ubsan
# configs), or with --tsan under ThreadSanitizer: every out-of-bounds access, use after free,
# leak, undefined behaviour or data race fails the test that caused it. LeakSanitizer reads
# ci/sanitizers/lsan.supp (libraries outside the project only, each justified there).
# Usage: ci/sanitize.sh [--tsan] [TARGETS...]
# Default targets: the packages that do not link LibTorch's training paths (LibTorch is not
# instrumented: its tests are slow under ASan, and under TSan a test linking LibTorch dies at
# start, so the loader's test is not among TSan's yet).
set -euo pipefail
cd "$(dirname "$0")/.."
ci/setup.sh > /dev/null
configs=(--config=asan --config=ubsan)
defaults=(//lib/io/... //lib/records/... //lib/image/... //lib/data/... //lib/parallel/... //lib/util/...
  //lib/report/... //tools/valprep/... //tools/shard/...)
if [[ ${1:-} == --tsan ]]; then
  shift
  configs=(--config=tsan)
  defaults=(//lib/parallel/... //tools/shard/...)
fi
targets=("$@")
((${#targets[@]})) || targets=("${defaults[@]}")
exec bazel test "${configs[@]}" \
  --test_env=LSAN_OPTIONS="suppressions=$PWD/ci/sanitizers/lsan.supp:print_suppressions=0" "${targets[@]}"
