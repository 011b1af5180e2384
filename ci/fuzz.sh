#!/usr/bin/env bash
# Fuzzes every libFuzzer target (cc_fuzz_test, lib/fuzzing/fuzz.bzl): builds them with clang, ASan
# and UBSan (.bazelrc's fuzz config, in an output base of its own so the default build stays
# warm), writes each one's seeds (its replay test's corpus files and generated seeds), runs it,
# and prints a table: executions, executions per second, edges covered, corpus size, findings.
#
# Usage: ci/fuzz.sh [SECONDS] [TARGETS...]        SECONDS shared by all targets (default 60: CI's pass)
#        ci/fuzz.sh --each SECONDS [TARGETS...]   SECONDS per target, or 10 million executions
# TARGETS are _fuzzer labels (default: every target tagged fuzzer).
#
# Corpora grow across runs under $FUZZ_DIR (default ~/.cache/resnet-forge/fuzz/<target>/). A crash,
# leak, timeout or failed property is saved as <target>/findings/<kind>-<sha1> and fails the run:
# copy it into <package>/testdata/fuzz/<test name>/ (the replay test then runs it), and fix the bug.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/setup.sh > /dev/null

budget=60 each=0
if [[ ${1:-} == --each ]]; then
  each=1
  shift
fi
if [[ ${1:-} =~ ^[0-9]+$ ]]; then
  budget=$1
  shift
fi
targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(bazel query --noshow_progress 'attr(tags, "\bfuzzer\b", //...)' 2> /dev/null)
fi
((${#targets[@]})) || { echo "fuzz: no targets" >&2; exit 2; }
if ((each)); then
  seconds=$budget runs=(-runs=10000000)
else
  # The short pass (CI's) mutates from a fixed seed, so that a run finds what the last one found.
  seconds=$((budget / ${#targets[@]})) runs=(-seed=1)
  ((seconds >= 1)) || seconds=1
fi

fuzz_bazel=(bazel --output_base="$HOME/.cache/resnet-forge/bazel-fuzz")
echo "fuzz: building ${#targets[@]} targets with clang, ASan and UBSan" >&2
"${fuzz_bazel[@]}" build --config=fuzz --symlink_prefix=/ --noshow_progress "${targets[@]}" >&2
bin=$("${fuzz_bazel[@]}" info --config=fuzz bazel-bin 2> /dev/null)
work=${FUZZ_DIR:-$HOME/.cache/resnet-forge/fuzz}
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS="suppressions=$PWD/ci/sanitizers/lsan.supp:print_suppressions=0"

# A final statistic of libFuzzer's log: stat NAME LOG
stat() { grep -o "^stat::$1: *[0-9]*" "$2" | grep -o '[0-9]*$' || echo "?"; }

failed=0
rows=()
for target in "${targets[@]}"; do
  package=${target%%:*} package=${package#//} fuzzer=${target##*:}
  test_name=${fuzzer%_fuzzer}
  dir=$work/$fuzzer
  rm -rf "$dir/seeds" "$dir/findings"
  mkdir -p "$dir/corpus" "$dir/findings"
  bazel run --noshow_progress "//$package:$test_name" -- --write_seeds="$dir/seeds" > "$dir/seeds.log" 2>&1 ||
    { echo "fuzz: writing the seeds of //$package:$test_name failed: $dir/seeds.log" >&2; exit 1; }
  dict=()
  [[ -f $package/testdata/fuzz/$test_name.dict ]] && dict=(-dict="$package/testdata/fuzz/$test_name.dict")
  echo "fuzz: $target for ${seconds} s" >&2
  status=0
  "$bin/$package/$fuzzer" -max_total_time="$seconds" "${runs[@]}" -print_final_stats=1 -timeout=25 \
    -rss_limit_mb=4096 -artifact_prefix="$dir/findings/" "${dict[@]}" "$dir/corpus" "$dir/seeds" \
    > "$dir/fuzz.log" 2>&1 || status=$?
  coverage=$(grep -o 'cov: [0-9]*' "$dir/fuzz.log" | tail -1 | cut -d' ' -f2)
  findings=$(find "$dir/findings" -type f | wc -l)
  if ((status != 0 || findings != 0)); then
    failed=1
    echo "fuzz: $target FOUND A PROBLEM (exit $status); log: $dir/fuzz.log, inputs: $dir/findings/" >&2
    grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|Check failed' "$dir/fuzz.log" >&2 || true
  fi
  rows+=("| $target | $(stat number_of_executed_units "$dir/fuzz.log") | $(stat average_exec_per_sec "$dir/fuzz.log") | ${coverage:-?} | $(find "$dir/corpus" -type f | wc -l) | $findings |")
done

echo "| target | executions | per second | edges covered | corpus | findings |"
echo "|---|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
exit "$failed"
