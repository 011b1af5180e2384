#!/usr/bin/env bash
# Installs the packages whose real photographs ci/bench/make_photos.py crops into an
# ImageNet-like benchmark set. Idempotent: does nothing when everything is already there.
#
#   Debian:  lomiri-wallpapers-16.04  (15 MB .deb; camera photos of 1.4-5 MP in /usr/share/backgrounds)
#            palapeli-data            (2 MB .deb; 5 photos in /usr/share/palapeli/collection)
#   PyPI:    scikit-image, scikit-learn wheels, installed with --no-deps into a private
#            --target under the cache (never into the project's Python): only their sample
#            photos (skimage/data, sklearn/datasets/images) are used, their code never runs.
#
# Prints nothing but errors when everything is present; prints the pip target root with --print-root.
set -euo pipefail

source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../env.sh"  # FORGE_CACHE, PYTHON
PY_ROOT="$FORGE_CACHE/bench-sources/py"
APT_PACKAGES=(lomiri-wallpapers-16.04 palapeli-data)
# Pinned so that the photo set is the same on every machine. The wheel tags are pinned too
# (the data files are the same in every wheel), so the local Python version does not matter.
PIP_PACKAGES=("scikit-image==0.26.0" "scikit-learn==1.9.1")
PIP_TAGS=(--only-binary=:all: --implementation cp --python-version 3.11 --abi cp311
          --platform manylinux_2_28_x86_64)

if [[ "${1:-}" == "--print-root" ]]; then
  echo "$PY_ROOT"
  exit 0
fi

sudo_if_needed() {
  if [[ "$(id -u)" -ne 0 ]]; then sudo "$@"; else "$@"; fi
}

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "install_photos: apt-get install ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! sudo_if_needed apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    sudo_if_needed apt-get update -qq >/dev/null
    sudo_if_needed apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

for spec in "${PIP_PACKAGES[@]}"; do
  name="${spec%%==*}"
  target="$PY_ROOT/$name"
  marker="$target/.installed-$spec"
  [[ -f "$marker" ]] && continue
  echo "install_photos: pip install --no-deps --target $target $spec" >&2
  rm -rf "$target.tmp"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --no-compile \
    "${PIP_TAGS[@]}" --target "$target.tmp" "$spec"
  rm -rf "$target"
  mv "$target.tmp" "$target"
  touch "$marker"
done
