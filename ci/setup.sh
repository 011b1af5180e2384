#!/usr/bin/env bash
# Installs everything ResNet Forge needs on a fresh Debian 12 machine, then prints the versions
# found. Idempotent: what is already present is left alone.
#
# Debian's packages come from apt-get. The pinned PyPI packages (torch, whose LibTorch the tools
# link, and torchvision for the baselines) go into the project's own virtual environment,
# ~/.cache/resnet-forge/venv, made with the system's `python3 -m venv`: never into the system
# Python, which Debian 12 and Ubuntu 24.04 mark as externally managed (PEP 668).
# Overrides: PYTHON=/path/to/python installs into and builds with that interpreter instead;
# LIBTORCH=/path/to/libtorch builds against an unpacked official LibTorch archive (the wheel is
# still installed for the baselines). Export them for later `bazel` commands too.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/env.sh"

APT_PACKAGES=(
  bazel-bootstrap bazel-platforms g++ pkg-config python3 python3-venv
  libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev libisal-dev
  libabsl-dev libgflags-dev libgoogle-glog-dev
  libprotobuf-dev protobuf-compiler libgtest-dev libgmock-dev
  libcairo2-dev fonts-dejavu-core
  openmpi-bin libopenmpi-dev
  libcpp-httplib-dev chromium
  nlohmann-json3-dev
  clang libclang-rt-14-dev llvm
)
PIP_PACKAGES=(torch==2.11.0 torchvision==0.26.0 safetensors==0.8.0)

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# The project's virtual environment, (re)made when absent or when its interpreter no longer runs
# (say, the system Python it was made from was upgraded away).
if [[ "$PYTHON" == "$FORGE_VENV/bin/python3" ]] && ! "$PYTHON" -c '' 2>/dev/null; then
  echo "setup: creating the virtual environment $FORGE_VENV (from $(command -v python3))" >&2
  rm -rf "$FORGE_VENV"
  mkdir -p "$FORGE_CACHE"
  python3 -m venv "$FORGE_VENV"
fi
if ! "$PYTHON" -c '' 2>/dev/null; then
  echo "setup: PYTHON=$PYTHON does not run" >&2
  exit 2
fi

pip_version() { "$PYTHON" -c "import importlib.metadata as m; print(m.version('$1'))" 2>/dev/null || echo "not found"; }
pip_missing=()
for requirement in "${PIP_PACKAGES[@]}"; do
  have=$(pip_version "${requirement%%==*}")
  [[ "${have%%+*}" == "${requirement#*==}" ]] || pip_missing+=("$requirement")
done
if ((${#pip_missing[@]})); then
  echo "setup: installing from PyPI into $("$PYTHON" -c 'import sys; print(sys.prefix)'): ${pip_missing[*]}" >&2
  "$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    "${pip_missing[@]}" >&2
fi

version() { "$@" 2>/dev/null | head -n 1 || echo "not found"; }
deb_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not found"; }
echo "setup: bazel $(deb_version bazel-bootstrap), $(version g++ --version)"
echo "setup: protoc $(version protoc --version), abseil $(deb_version libabsl-dev), gflags $(deb_version libgflags-dev), glog $(deb_version libgoogle-glog-dev)"
echo "setup: open mpi $(deb_version libopenmpi-dev), cpp-httplib $(deb_version libcpp-httplib-dev), chromium $(deb_version chromium), nlohmann-json $(deb_version nlohmann-json3-dev)"
echo "setup: libjpeg-turbo $(deb_version libturbojpeg0-dev), libpng $(deb_version libpng-dev), isa-l $(deb_version libisal-dev), googletest $(deb_version libgtest-dev)"
echo "setup: python $PYTHON ($("$PYTHON" --version 2>&1 | cut -d' ' -f2)), torch $(pip_version torch), torchvision $(pip_version torchvision), safetensors $(pip_version safetensors)"
if [[ -n "${LIBTORCH:-}" ]]; then
  echo "setup: building against LIBTORCH=$LIBTORCH ($(cat "$LIBTORCH/build-version" 2>/dev/null || echo 'no build-version'))"
fi
"$HERE/check_cuda_driver.sh"
