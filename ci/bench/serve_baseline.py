#!/usr/bin/env python3
"""The HTTP inference server people write today with PyTorch, for ci/bench/bench_serve.sh: the
standard library's ThreadingHTTPServer (one thread per connection, HTTP/1.1 keep-alive) answering
POST /v1/predict with the same JSON as `serve`, each request on its own: PIL decodes the body,
torchvision's evaluation transform (Resize(256), CenterCrop(224), ToTensor(), Normalize(mean,
std)), one forward pass of a torchvision ResNet under torch.inference_mode(), softmax, top-k.
No batching across requests: concurrent requests run their forward passes at once on their own
threads (torch releases the GIL), as such servers do.

    serve_baseline.py --arch=resnet50 [--init_out=F.safetensors | --weights=F.safetensors] --port=P

--init_out writes the randomly initialised model (torch.manual_seed(0)) as a safetensors state
dict, for `serve --checkpoint=F --model=ARCH --stats=...`, so that both servers hold the same
weights; then exits. Otherwise it serves those weights until SIGTERM or SIGINT.
"""

import argparse
import io
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch
import torchvision
from PIL import Image
from torchvision import transforms


MEAN = [0.485, 0.456, 0.406]  # ImageNet's, as bench_serve.sh gives serve in --stats
STD = [0.229, 0.224, 0.225]
DTYPES = {"F32": torch.float32, "I64": torch.int64}


def write_safetensors(tensors, path):
    """A state dict (float32 and int64 tensors) as a safetensors file: the format's plain layout."""
    header, chunks, offset = {}, [], 0
    for name, tensor in sorted(tensors.items()):
        raw = tensor.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        dtype = {v: k for k, v in DTYPES.items()}[tensor.dtype]
        header[name] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + b"".join(chunks))


def read_safetensors(path):
    """The tensors of a file write_safetensors wrote (no checks: a benchmark's own file)."""
    with open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    buffer = data[8 + n:]
    return {name: torch.frombuffer(bytearray(buffer[e["data_offsets"][0]:e["data_offsets"][1]]),
                                   dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
            for name, e in header.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="resnet50")
    parser.add_argument("--init_out", default="")
    parser.add_argument("--weights", default="")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args()

    torch.manual_seed(0)
    model = getattr(torchvision.models, args.arch)(num_classes=1000)
    if args.init_out:
        write_safetensors(model.state_dict(), args.init_out)
        return
    if args.weights:
        model.load_state_dict(read_safetensors(args.weights), strict=True)
    model.eval()
    transform = transforms.Compose([
        transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
        transforms.Normalize(MEAN, STD)])
    counters = {"answered": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as serve's clients get
        # Headers and body go out in two writes; with Nagle's algorithm the second waits for the
        # client's delayed ACK (40 ms). serve sets TCP_NODELAY; so does the baseline, in its favour.
        disable_nagle_algorithm = True

        def log_message(self, *unused):
            pass

        def reply(self, status, payload):
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/healthz":
                self.reply(200, {"status": "ok", "model": args.arch, "answered": counters["answered"]})
            else:
                self.reply(404, {"error": "no such path"})

        def do_POST(self):
            start = time.perf_counter()
            path, _, query = self.path.partition("?")
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if path != "/v1/predict":
                self.reply(404, {"error": "no such path"})
                return
            k = 5
            for part in query.split("&"):
                if part.startswith("k="):
                    k = int(part[2:])
            try:
                image = Image.open(io.BytesIO(body)).convert("RGB")
            except Exception as e:  # noqa: BLE001
                self.reply(422, {"error": str(e)})
                return
            with torch.inference_mode():
                probabilities = torch.softmax(model(transform(image).unsqueeze(0)), dim=1)[0]
                top = torch.topk(probabilities, k)
            self.reply(200, {
                "top": [{"wnid": str(int(i)), "name": str(int(i)), "probability": float(p)}
                        for p, i in zip(top.values, top.indices)],
                "model": args.arch,
                "milliseconds": 1000 * (time.perf_counter() - start)})
            with lock:
                counters["answered"] += 1

    # The standard library listens with a backlog of 5, which a burst of 32 new clients overflows
    # (their connections stall, some fail); a larger one in the baseline's favour.
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *unused: threading.Thread(target=server.shutdown).start())
    print(f"serve_baseline: {args.arch} on http://{args.host}:{args.port}/", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()


if __name__ == "__main__":
    main()
