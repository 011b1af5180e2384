#!/usr/bin/env bash
# Sets up the machine (ci/setup.sh) and runs every test: bazel test //...
# Extra arguments go to bazel test, e.g. ci/test.sh --test_output=all //lib/...
set -euo pipefail
cd "$(dirname "$0")/.."

ci/setup.sh
targets=("$@")
((${#targets[@]})) || targets=(//...)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
bazel test --test_summary=short "${targets[@]}" 2>&1 | tee "$log" || status=$?
passed=$(grep -cE '^//\S+\s+(\(cached\) )?PASSED' "$log" || true)
failed=$(grep -cE '^//\S+\s+(\(cached\) )?(FAILED|TIMEOUT|FLAKY|NO STATUS|INCOMPLETE)|FAILED TO BUILD' "$log" || true)
echo "tests: ${passed} passed, ${failed} failed"
exit "$status"
