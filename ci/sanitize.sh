#!/usr/bin/env bash
# Runs tests under AddressSanitizer + UndefinedBehaviorSanitizer (.bazelrc's asan and ubsan
# configs): every out-of-bounds access, use after free, leak and undefined behaviour fails the
# test that caused it. LeakSanitizer reads ci/sanitizers/lsan.supp (libraries outside the
# project only, each justified there).
# Usage: ci/sanitize.sh [TARGETS...]   (default: the packages below; LibTorch is not instrumented,
# so tests that train are slow under ASan and left to an explicit request)
set -euo pipefail
cd "$(dirname "$0")/.."
ci/setup.sh > /dev/null
targets=("$@")
((${#targets[@]})) || targets=(//lib/io/... //lib/records/... //lib/image/... //lib/data/... //lib/parallel/...
  //lib/util/... //lib/report/... //tools/valprep/... //tools/shard/...)
exec bazel test --config=asan --config=ubsan \
  --test_env=LSAN_OPTIONS="suppressions=$PWD/ci/sanitizers/lsan.supp:print_suppressions=0" "${targets[@]}"
