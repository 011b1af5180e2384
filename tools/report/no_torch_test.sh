#!/bin/bash
# Fails if anything in //tools/report depends on LibTorch. $1: the output of the genquery
# :torch_dependencies, the @torch rules in their dependencies (one per line, none expected).
set -euo pipefail
if [[ ! -f "$1" ]]; then
  echo "no query output at '$1'" >&2
  exit 1
fi
if [[ -s "$1" ]]; then
  echo "//tools/report must not depend on LibTorch (report builds and reruns in seconds), but it" \
       "depends on:" >&2
  cat "$1" >&2
  echo "Find the path with: bazel query 'somepath(//tools/report/..., @torch//:all)'" >&2
  exit 1
fi
echo "//tools/report depends on no @torch target"
