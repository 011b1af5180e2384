#!/usr/bin/env bash
# Builds the tools, the tests that link LibTorch and the training-step benchmark, and packs them
# into one folder that runs on a machine with PyTorch but no Bazel, no Debian -dev packages and
# no network (a lent GPU machine): binaries (stripped), the Debian shared libraries they need,
# the tests' runfiles, the recipes, the PyTorch baseline and ci/gpu/run.sh. LibTorch's own
# libraries (libtorch*, libc10*, the CUDA libraries of the wheel) are NOT packed: run.sh takes
# them from the target's `import torch`. See ci/gpu/README.md.
# Usage: ci/gpu/pack.sh OUT_DIR     (OUT_DIR is replaced; PACK_MAX_MB, default 60, caps its size)
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ $# -eq 1 ]] || { echo "usage: ci/gpu/pack.sh OUT_DIR" >&2; exit 2; }
OUT=$(realpath -m "$1")
MAX_MB=${PACK_MAX_MB:-60}
source ci/env.sh  # PYTHON: the environment whose torch the build links (its lib dir is not packed)

TOOLS=(//tools/train //tools/eval //tools/lr_find //tools/report //tools/shard //tools/compute_stats
  //tools/valprep //testdata:make_tiny_imagenet //tools/train:train_step_benchmark)
# Every test that links LibTorch (the ones with CUDA code paths among them); the `exclusive` ones
# are long CPU-only runs that run.sh starts only with --heavy.
mapfile -t TESTS < <(bazel query 'kind(cc_test, rdeps(//..., @torch//:torch))' 2>/dev/null | sort)
mapfile -t HEAVY < <(bazel query 'attr(tags, "exclusive", kind(cc_test, rdeps(//..., @torch//:torch)))' 2>/dev/null)
((${#TESTS[@]})) || { echo "pack: bazel query found no tests" >&2; exit 1; }
echo "pack: building ${#TOOLS[@]} tools and ${#TESTS[@]} tests" >&2
bazel build "${TOOLS[@]}" "${TESTS[@]}" >&2
BIN=$(bazel info bazel-bin 2>/dev/null)
TORCH_LIB=$("$PYTHON" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
SITE=$(dirname "$(dirname "$TORCH_LIB")")  # site-packages: torch/ and the nvidia/* CUDA wheels

rm -rf "$OUT"
R="$OUT/runfiles/resnet_forge"  # the tests' runfiles tree; binaries keep their Bazel paths in it
mkdir -p "$R/_solib_k8" "$OUT/lib/fallback" "$OUT/bench" "$OUT/recipes"
path_of() { local p=${1#//}; [[ $p == *:* ]] && echo "${p/://}" || echo "$p/${p##*/}"; }

# Tests: their runfiles (data files, tools they run, their per-library .so files), merged into
# one tree. Bazel links a cc_test against one .so per cc_library in _solib_k8, found through
# RUNPATH $ORIGIN/../_solib_k8 relative to the binary: the tree keeps that layout, so it resolves.
for t in "${TESTS[@]}"; do
  p=$(path_of "$t")
  cp -rL "$BIN/$p.runfiles/resnet_forge/." "$R/"
  cp -L "$BIN/$p" "$R/$p"
done
for t in "${TOOLS[@]}"; do
  p=$(path_of "$t")
  mkdir -p "$R/$(dirname "$p")"
  cp -L "$BIN/$p" "$R/$p"
done
cp tools/train/recipes/*.txtpb "$OUT/recipes/"
mkdir -p "$R/tools/train/recipes" && cp tools/train/recipes/*.txtpb "$R/tools/train/recipes/"
cp ci/bench/train_step_baseline.py "$OUT/bench/"
cp ci/gpu/run.sh ci/gpu/README.md "$OUT/"
chmod -R u+w "$OUT"

# Strip every ELF file (Bazel's -c opt keeps symbol tables).
mapfile -t ELVES < <(find "$OUT" -type f -exec sh -c 'head -c4 "$1" | grep -q "^.ELF"' _ {} \; -print)
strip --strip-unneeded "${ELVES[@]}"

# Shared libraries from the system: everything ldd resolves outside torch's environment, except
# the C library itself (libc, libm, ld.so and friends, present everywhere and not replaceable).
# libstdc++ and libgcc_s go into lib/fallback, which run.sh adds only when the target's own are
# older than the build's (newer ones are compatible).
declare -A SEEN=()
for f in "${ELVES[@]}"; do
  while read -r name path; do
    [[ -n $path && -z ${SEEN[$name]:-} ]] || continue
    SEEN[$name]=1
    case "$path" in
      "$SITE"/*|"$OUT"/*) continue ;;                     # torch, CUDA wheels, the pack itself
    esac
    case "$name" in
      linux-vdso*|ld-linux*|libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*|libutil.so.*|libresolv.so.*) ;;
      libstdc++.so.*|libgcc_s.so.*) cp -L "$path" "$OUT/lib/fallback/$name" ;;
      *) cp -L "$path" "$OUT/lib/$name" ;;
    esac
  done < <(LD_LIBRARY_PATH="$TORCH_LIB" ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}')
  if LD_LIBRARY_PATH="$TORCH_LIB" ldd "$f" 2>/dev/null | grep -q 'not found'; then
    echo "pack: $f has unresolved libraries here:" >&2
    LD_LIBRARY_PATH="$TORCH_LIB" ldd "$f" | grep 'not found' >&2
    exit 1
  fi
done
find "$OUT/lib" -maxdepth 2 -name '*.so*' -type f -exec strip --strip-unneeded {} +

# What run.sh runs, and what it was built from.
{
  for t in "${TESTS[@]}"; do
    heavy=0
    for h in "${HEAVY[@]}"; do [[ $h == "$t" ]] && heavy=1; done
    echo "test $(path_of "$t") $heavy"
  done
} > "$OUT/tests.txt"
{
  echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo -dirty)"
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "torch $("$PYTHON" -c 'import torch; print(torch.__version__)')"
  echo "glibc_required $(objdump -T "${ELVES[@]}" "$OUT"/lib/*.so* 2>/dev/null | grep -o 'GLIBC_2\.[0-9]*' | sort -uV | tail -1)"
  echo "glibcxx_required $(objdump -T "${ELVES[@]}" "$OUT"/lib/*.so* 2>/dev/null | grep -o 'GLIBCXX_3\.4\.[0-9]*' | sort -uV | tail -1)"
} > "$OUT/BUILD_INFO"

kb=$(du -sk "$OUT" | cut -f1)
echo "pack: $OUT: $((kb / 1024)) MB (${#ELVES[@]} binaries, $(find "$OUT/lib" -name '*.so*' | wc -l) system libraries, ${#TESTS[@]} tests)" >&2
if ((kb > MAX_MB * 1024)); then
  echo "pack: $OUT is $((kb / 1024)) MB, over the $MAX_MB MB limit" >&2
  exit 1
fi
