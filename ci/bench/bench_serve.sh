#!/usr/bin/env bash
# serve against a plain PyTorch + torchvision HTTP server (serve_baseline.py: the standard
# library's ThreadingHTTPServer, one forward pass per request), on this machine's CPU: requests/s
# and p50/p99 latency with 1, 8 and 32 concurrent clients, for ResNet-18 and ResNet-50.
#
# Both servers hold the same randomly initialised weights (torch.manual_seed(0), written once by
# serve_baseline.py --init_out as a safetensors state dict that serve loads with --model; random
# weights cost what trained ones cost), take the same photographs (the first BENCH_IMAGES of the
# photo set of make_photos.py: ImageNet-sized 500x375 camera crops, JPEG quality 90) and resize
# them the same way (shorter side 256 as Pillow does, center crop 224, ImageNet's mean and std).
# Each load is closed-loop: N clients (//tools/serve:serve_load, C++, keep-alive connections),
# each sending its next image when its last is answered, BENCH_WARMUP_S untimed seconds then
# BENCH_DURATION_S timed ones, in BENCH_REPEAT interleaved rounds (the round with the most
# requests/s of each configuration is reported). Only loopback is used. One server is loaded at a
# time (the other idles).
# The report checks that every request was answered (HTTP 200) and that both servers gave each
# image the same top-1 class and probability (to 1e-4).
#
# Usage: ci/bench/bench_serve.sh   (BENCH_MODELS="resnet18 resnet50", BENCH_CLIENTS="1 8 32",
#   BENCH_IMAGES=32, BENCH_WARMUP_S=2, BENCH_DURATION_S=8, BENCH_REPEAT=2, BENCH_PORT=18180,
#   BENCH_KEEP_TMP=1)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../env.sh"  # PYTHON: the project's environment (ci/setup.sh)
cd "$HERE/../.."

MODELS=${BENCH_MODELS:-resnet18 resnet50}
CLIENTS=${BENCH_CLIENTS:-1 8 32}
IMAGES=${BENCH_IMAGES:-32}
WARMUP=${BENCH_WARMUP_S:-2}
DURATION=${BENCH_DURATION_S:-8}
REPEAT=${BENCH_REPEAT:-2}
PORT=${BENCH_PORT:-18180}
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/resnet-forge"
PHOTOS="$CACHE/bench-photos"
RESULTS="$CACHE/bench-results/serve-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RESULTS"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/bench_serve.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ "${BENCH_KEEP_TMP:-0}" != 1 ]]; then rm -rf "$TMP"; fi
}
trap cleanup EXIT
log() { echo "bench_serve: $*" >&2; }

log "building //tools/serve:serve and :serve_load"
bazel build //tools/serve:serve //tools/serve:serve_load 2>"$TMP/build.log" || { cat "$TMP/build.log" >&2; exit 1; }
BIN="$(bazel info bazel-bin 2>/dev/null)/tools/serve"
if [[ ! -f "$PHOTOS/.manifest.json" ]]; then
  log "generating the photo set into $PHOTOS"
  "$HERE/install_photos.sh"
  "$PYTHON" "$HERE/make_photos.py" --out_dir="$PHOTOS" --force
fi
mapfile -t photos < <(find "$PHOTOS" -name '*.JPEG' | sort)
images=$(IFS=,; echo "${photos[*]:0:$IMAGES}")
cat "$PHOTOS"/*/* >/dev/null  # into the page cache
printf 'mean: [0.485, 0.456, 0.406]\nstd: [0.229, 0.224, 0.225]\n' >"$TMP/imagenet_stats.txtpb"

# Waits until http://127.0.0.1:$1/healthz answers (at most 120 s).
wait_ready() {
  for _ in $(seq 1200); do
    # No proxy: the request must stay on loopback whatever http_proxy says.
    if "$PYTHON" -c "import urllib.request as u; u.build_opener(u.ProxyHandler({})).open('http://127.0.0.1:$1/healthz', timeout=1)" \
      2>/dev/null; then return 0; fi
    sleep 0.1
  done
  log "the server on port $1 did not start"; return 1
}
stop() { kill "$1"; wait "$1" 2>/dev/null || true; }

{
  echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores"
  echo "serve: $(git rev-parse --short HEAD), torch $("$PYTHON" -c 'import torch; print(torch.__version__)'), torchvision $("$PYTHON" -c 'import torchvision; print(torchvision.__version__)'), Python $("$PYTHON" --version | cut -d' ' -f2)"
  echo "images: $IMAGES photos of $PHOTOS; load: $WARMUP s warm-up + $DURATION s timed per run, $REPEAT rounds"
} | tee "$RESULTS/setup.txt" >&2
load=$(cut -d' ' -f1 /proc/loadavg)
if awk "BEGIN{exit !($load > 0.5)}"; then log "warning: load average $load: other work shares the CPU"; fi

for model in $MODELS; do
  weights="$TMP/$model.safetensors"
  "$PYTHON" "$HERE/serve_baseline.py" --arch="$model" --init_out="$weights"
  "$BIN/serve" --checkpoint="$weights" --model="$model" --stats="$TMP/imagenet_stats.txtpb" --device=cpu \
    --port="$PORT" 2>"$RESULTS/serve_$model.log" &
  ours=$!; pids+=("$ours")
  "$PYTHON" "$HERE/serve_baseline.py" --arch="$model" --weights="$weights" --port=$((PORT + 1)) \
    2>"$RESULTS/baseline_$model.log" &
  theirs=$!; pids+=("$theirs")
  wait_ready "$PORT"
  wait_ready $((PORT + 1))
  for round in $(seq "$REPEAT"); do
    for clients in $CLIENTS; do
      for server in forge pytorch; do
        port=$PORT; [[ $server == pytorch ]] && port=$((PORT + 1))
        log "$model, $clients clients, $server, round $round"
        "$BIN/serve_load" --port="$port" --images="$images" --concurrency="$clients" --warmup_s="$WARMUP" \
          --duration_s="$DURATION" --label="$model $server" >>"$RESULTS/runs.jsonl"
      done
    done
  done
  stop "$ours"
  stop "$theirs"
done
"$PYTHON" "$HERE/bench_serve_report.py" "$RESULTS/runs.jsonl" | tee "$RESULTS/report.md"
log "results in $RESULTS"
