#!/usr/bin/env bash
# Runs tests under AddressSanitizer + UndefinedBehaviorSanitizer (.bazelrc's asan and ubsan
# configs), or with --tsan under ThreadSanitizer: every out-of-bounds access, use after free,
# leak, undefined behaviour or data race fails the test that caused it. The suppressions in
# ci/sanitizers/ (lsan.supp, tsan.supp) cover libraries outside the project only, each justified
# there. Builds go to an output base of their own, so the default build stays warm.
# Usage: ci/sanitize.sh [--tsan] [TARGETS...]
# Default targets: under ASan+UBSan every test; under TSan the multi-threaded parts: the ordered
# pipeline, shard, the loader, the process group and the distributed training tests.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/setup.sh > /dev/null
configs=(--config=asan --config=ubsan)
# Every package, named by its top folder: //... would also read the default build's convenience
# symlinks (bazel-<folder name>), which only their own output base knows to skip.
defaults=(//lib/... //tools/... //testdata/... //proto/... //ci/...)
if [[ ${1:-} == --tsan ]]; then
  shift
  configs=(--config=tsan)
  defaults=(//lib/parallel/... //tools/shard/... //lib/data:loader_test //lib/distributed/...
    //tools/train:distributed_test)
fi
targets=("$@")
((${#targets[@]})) || targets=("${defaults[@]}")
# LibTorch is not instrumented but the code around it is: tests run several times slower than in
# the default build, hence the longer time limit.
# intercept_tls_get_addr=0: GCC 12's runtime (as GCC up to 13 and LLVM up to 16) can take a
# dynamic TLS block for a pre-2.25 glibc one and scan a bogus range read from the words before it.
# Without the flag LeakSanitizer's tracer died ("Tracer caught signal 11", no report) at the exit
# of MPI jobs, which dlopen Open MPI's plugins: 2 of 5 runs of a one-process job, 1 of 1 of a
# three-process one. With it: none in 5 runs of each (tools/train:distributed_test).
exec bazel --output_base="$HOME/.cache/resnet-forge/bazel-sanitize" test "${configs[@]}" --symlink_prefix=/ \
  --test_timeout=1800 --local_test_jobs=1 \
  --test_env=LSAN_OPTIONS="suppressions=$PWD/ci/sanitizers/lsan.supp:print_suppressions=0:fast_unwind_on_malloc=0:intercept_tls_get_addr=0" \
  --test_env=TSAN_OPTIONS="suppressions=$PWD/ci/sanitizers/tsan.supp:ignore_noninstrumented_modules=1" "${targets[@]}"
