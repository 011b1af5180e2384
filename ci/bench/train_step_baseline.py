#!/usr/bin/env python3
"""Training-step throughput of PyTorch eager (Python): the baseline for
//tools/train:train_step_benchmark, which takes the same flags. Same model (torchvision ResNet),
batch, image size, threads, device, precision and memory format; SGD with momentum and weight
decay, cross-entropy with label smoothing; fp16 as PyTorch's AMP recipe has it (autocast around
the forward pass, GradScaler); random inputs on the device (no data loading). No value is read
back to the host inside a step. Prints one line: images/s over the timed steps."""
import argparse
import time

import torch
import torchvision


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--image_size", type=int, default=224)
    parser.add_argument("--threads", type=int, default=0, help="0: torch's default")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"],
                        help="bf16: autocast; fp16 (CUDA): autocast + GradScaler")
    parser.add_argument("--channels_last", action="store_true")
    parser.add_argument("--cudnn_benchmark", action="store_true", help="torch.backends.cudnn.benchmark")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.precision == "fp16" and device.type != "cuda":
        parser.error("--precision=fp16 needs CUDA; use bf16 (or fp32) on the CPU")
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    torch.manual_seed(0)
    model = getattr(torchvision.models, args.model)(num_classes=1000).to(device)
    x = torch.randn(args.batch_size, 3, args.image_size, args.image_size, device=device)
    y = torch.randint(0, 1000, (args.batch_size,), device=device)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    autocast_dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[args.precision]
    scaler = torch.amp.GradScaler(device.type, enabled=args.precision == "fp16")

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            logits = model(x)
        loss = loss_fn(logits, y)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(args.warmup):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync()
    seconds = time.perf_counter() - start
    print(f"pytorch_eager model={args.model} batch={args.batch_size} size={args.image_size} device={device} "
          f"precision={args.precision} threads={torch.get_num_threads()} channels_last={int(args.channels_last)} "
          f"images_per_sec={args.batch_size * args.steps / seconds:.2f}")


if __name__ == "__main__":
    main()
