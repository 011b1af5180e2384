#!/usr/bin/env bash
# Compares the CUDA version the NVIDIA driver supports with the one the LibTorch in use was
# built for, so that a driver too old for it is found at set-up, not at the first CUDA call.
# Prints one line when all is well (or no driver is present) and exits 0; prints what to do and
# exits 0 too when the driver is too old, since everything still builds and runs on the CPU.
# Reads: LIBTORCH (an unpacked LibTorch archive; its build-version, e.g. 2.11.0+cu126) or else
# the torch wheel of $PYTHON (its torch/version.py); NVIDIA_SMI (default: nvidia-smi on PATH).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/env.sh"
NVIDIA_SMI="${NVIDIA_SMI:-nvidia-smi}"

# The CUDA version (major.minor) LibTorch was built for, "cpu" for a CPU-only build, or "" when
# it cannot be told.
build_cuda() {
  if [[ -n "${LIBTORCH:-}" ]]; then
    local tag
    tag=$(sed -n 's/.*+\(cu[0-9]*\|cpu\).*/\1/p' "$LIBTORCH/build-version" 2>/dev/null | head -n 1)
    case "$tag" in
      cpu) echo cpu ;;
      cu*) local digits=${tag#cu}; echo "${digits:0:${#digits}-1}.${digits: -1}" ;;
    esac
    return
  fi
  local root
  root=$("$PYTHON" -c 'import importlib.util as u; s = u.find_spec("torch"); print(s.submodule_search_locations[0] if s else "")' 2>/dev/null) || return 0
  [[ -n "$root" ]] || return 0
  local cuda
  cuda=$(sed -n "s/^cuda[^=]*= *['\"]\([0-9.]*\)['\"].*/\1/p" "$root/version.py" 2>/dev/null | head -n 1)
  echo "${cuda:-cpu}"
}

if ! command -v "$NVIDIA_SMI" >/dev/null 2>&1; then
  echo "setup: no NVIDIA driver (nvidia-smi not found): the tools run on the CPU"
  exit 0
fi
smi=$("$NVIDIA_SMI" 2>&1 || true)
driver_cuda=$(sed -n 's/.*CUDA Version: *\([0-9][0-9.]*\).*/\1/p' <<<"$smi" | head -n 1)
driver=$(sed -n 's/.*Driver Version: *\([0-9][0-9.]*\).*/\1/p' <<<"$smi" | head -n 1)
built=$(build_cuda)
source_name=${LIBTORCH:+LIBTORCH=$LIBTORCH}
source_name=${source_name:-the torch wheel of $PYTHON}

if [[ -z "$driver_cuda" ]]; then
  echo "setup: WARNING: $NVIDIA_SMI does not report a CUDA version (is the driver loaded?):"
  sed -n '1,3p' <<<"$smi" | sed 's/^/setup:   /'
  exit 0
fi
if [[ -z "$built" || "$built" == cpu ]]; then
  echo "setup: NVIDIA driver ${driver:-?} supports CUDA $driver_cuda, but $source_name is built ${built:+for the CPU only}${built:-for an unknown CUDA}: the tools will run on the CPU"
  exit 0
fi
echo "setup: NVIDIA driver ${driver:-?} supports CUDA $driver_cuda; $source_name is built for CUDA $built"
driver_major=${driver_cuda%%.*}
built_major=${built%%.*}
if ((driver_major < built_major)); then
  cat <<MSG
setup: WARNING: this driver is too old for CUDA $built: every CUDA call of the tools would fail.
setup:   Either update the NVIDIA driver to one that supports CUDA $built_major.x, or build against
setup:   an official LibTorch archive made for CUDA $driver_major.x or older (pytorch.org, "LibTorch",
setup:   "C++/Java", the cxx11 ABI build for the CUDA version $driver_cuda or below), unpacked anywhere:
setup:     export LIBTORCH=/path/to/libtorch && ci/setup.sh && bazel build //tools/...
MSG
elif [[ "$driver_major" == "$built_major" && "$(printf '%s\n%s\n' "$driver_cuda" "$built" | sort -V | head -n 1)" != "$built" ]]; then
  echo "setup: note: the driver's CUDA $driver_cuda is older than $built within the same major version: it runs under CUDA's minor-version compatibility"
fi
