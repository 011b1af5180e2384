#!/usr/bin/env python3
"""Training-step throughput of PyTorch eager (Python) on the CPU: the baseline for
//tools/train:train_step_benchmark. Same model (torchvision ResNet), batch, image size, threads
and memory format; SGD with momentum and weight decay, cross-entropy with label smoothing;
random inputs (no data loading). Prints one line: images/s over the timed steps."""
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
    parser.add_argument("--channels_last", action="store_true")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = getattr(torchvision.models, args.model)(num_classes=1000)
    x = torch.randn(args.batch_size, 3, args.image_size, args.image_size)
    y = torch.randint(0, 1000, (args.batch_size,))
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = time.perf_counter() - start
    print(f"pytorch_eager model={args.model} batch={args.batch_size} size={args.image_size} "
          f"threads={torch.get_num_threads()} channels_last={int(args.channels_last)} "
          f"images_per_sec={args.batch_size * args.steps / seconds:.2f}")


if __name__ == "__main__":
    main()
