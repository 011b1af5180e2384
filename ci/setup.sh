#!/usr/bin/env bash
# Installs everything ResNet Forge needs on a fresh Debian 12 machine, then prints the versions
# found. Idempotent: packages already present are left alone.
set -euo pipefail

APT_PACKAGES=(
  bazel-bootstrap bazel-platforms g++ pkg-config python3 python3-pip
  libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev libisal-dev
  libabsl-dev libgflags-dev libgoogle-glog-dev
  libprotobuf-dev protobuf-compiler libgtest-dev libgmock-dev
  libcairo2-dev fonts-dejavu-core
)
# LibTorch comes from this wheel (its C++ headers and libraries); torchvision is for baselines.
PIP_PACKAGES=(torch==2.11.0 torchvision==0.26.0)

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

PYTHON=${PYTHON:-python3}
pip_missing=()
for requirement in "${PIP_PACKAGES[@]}"; do
  name=${requirement%%==*}
  want=${requirement#*==}
  have=$("$PYTHON" -c "import importlib.metadata as m; print(m.version('$name'))" 2>/dev/null || true)
  [[ "${have%%+*}" == "$want" ]] || pip_missing+=("$requirement")
done
if ((${#pip_missing[@]})); then
  echo "setup: installing from PyPI: ${pip_missing[*]}" >&2
  "$PYTHON" -m pip install --quiet --disable-pip-version-check "${pip_missing[@]}" >&2
fi

version() { "$@" 2>/dev/null | head -n 1 || echo "not found"; }
deb_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not found"; }
pip_version() { "$PYTHON" -c "import importlib.metadata as m; print(m.version('$1'))" 2>/dev/null || echo "not found"; }
echo "setup: bazel $(deb_version bazel-bootstrap), $(version g++ --version)"
echo "setup: protoc $(version protoc --version), abseil $(deb_version libabsl-dev), gflags $(deb_version libgflags-dev), glog $(deb_version libgoogle-glog-dev)"
echo "setup: libjpeg-turbo $(deb_version libturbojpeg0-dev), libpng $(deb_version libpng-dev), isa-l $(deb_version libisal-dev), googletest $(deb_version libgtest-dev)"
echo "setup: python $($PYTHON --version 2>&1 | cut -d' ' -f2), torch $(pip_version torch), torchvision $(pip_version torchvision)"
