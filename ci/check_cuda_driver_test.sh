#!/usr/bin/env bash
# ci/check_cuda_driver.sh against fake nvidia-smi outputs and LibTorch builds: no driver, a
# driver newer than the build, one of the same major version but older, one too old, a CPU build.
set -euo pipefail
CHECK="$(cd "$(dirname "$0")" && pwd)/check_cuda_driver.sh"
[[ -x "$CHECK" ]] || CHECK="$TEST_SRCDIR/$TEST_WORKSPACE/ci/check_cuda_driver.sh"
SCRATCH=$(mktemp -d "${TEST_TMPDIR:-/tmp}/cuda_check.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
failures=0

# A LibTorch "archive" whose build-version names its CUDA build.
libtorch() {
  mkdir -p "$SCRATCH/libtorch-$1"
  echo "2.11.0+$1" >"$SCRATCH/libtorch-$1/build-version"
  echo "$SCRATCH/libtorch-$1"
}
# An nvidia-smi printing the header of a driver supporting CUDA $1.
smi() {
  cat >"$SCRATCH/smi-$1" <<SMI
#!/bin/sh
echo "+-----------------------------------------------------------------------------------------+"
echo "| NVIDIA-SMI 570.86.15              Driver Version: 570.86.15      CUDA Version: $1     |"
SMI
  chmod +x "$SCRATCH/smi-$1"
  echo "$SCRATCH/smi-$1"
}
expect() {  # expect NAME PATTERN OUTPUT
  if grep -qE -- "$2" <<<"$3"; then
    echo "ok: $1"
  else
    echo "FAILED: $1: no /$2/ in:"; echo "$3"; failures=$((failures + 1))
  fi
}
expect_not() {
  if grep -qE -- "$2" <<<"$3"; then
    echo "FAILED: $1: /$2/ in:"; echo "$3"; failures=$((failures + 1))
  else
    echo "ok: $1"
  fi
}

out=$(NVIDIA_SMI="$SCRATCH/none" LIBTORCH=$(libtorch cu130) "$CHECK")
expect "no driver" "no NVIDIA driver" "$out"

out=$(NVIDIA_SMI=$(smi 13.1) LIBTORCH=$(libtorch cu130) "$CHECK")
expect "newer driver: both versions" "supports CUDA 13.1; LIBTORCH=.* is built for CUDA 13.0" "$out"
expect_not "newer driver: no warning" "WARNING|note" "$out"

out=$(NVIDIA_SMI=$(smi 12.2) LIBTORCH=$(libtorch cu126) "$CHECK")
expect "same major, older minor" "minor-version compatibility" "$out"
expect_not "same major: no warning" "WARNING" "$out"

out=$(NVIDIA_SMI=$(smi 12.8) LIBTORCH=$(libtorch cu130) "$CHECK")
expect "too old: warns" "WARNING: this driver is too old for CUDA 13.0" "$out"
expect "too old: says how to build against LibTorch" "export LIBTORCH=/path/to/libtorch" "$out"
expect "too old: names the CUDA to look for" "CUDA 12.x or older" "$out"

out=$(NVIDIA_SMI=$(smi 12.8) LIBTORCH=$(libtorch cpu) "$CHECK")
expect "CPU build" "built for the CPU only" "$out"

# The torch wheel of $PYTHON (no LIBTORCH): its version.py names the CUDA build.
mkdir -p "$SCRATCH/site/torch"
printf "__version__ = '2.11.0+cu130'\ncuda: Optional[str] = '13.0'\n" >"$SCRATCH/site/torch/version.py"
printf '#!/bin/sh\necho "%s"\n' "$SCRATCH/site/torch" >"$SCRATCH/python"
chmod +x "$SCRATCH/python"
out=$(unset LIBTORCH; NVIDIA_SMI=$(smi 12.4) PYTHON="$SCRATCH/python" "$CHECK")
expect "wheel: its CUDA version" "the torch wheel of $SCRATCH/python is built for CUDA 13.0" "$out"
expect "wheel too new for the driver" "WARNING: this driver is too old" "$out"

echo "check_cuda_driver_test: $failures failed"
((failures == 0))
