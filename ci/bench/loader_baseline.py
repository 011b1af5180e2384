#!/usr/bin/env python3
"""The training input pipeline the way people write it today in PyTorch, timed.

torchvision ImageFolder + Compose([RandomResizedCrop(224), RandomHorizontalFlip(), ToTensor()])
+ DataLoader(batch_size=64, num_workers=N, shuffle=True), iterated over every batch for
--epochs epochs. This is the baseline //lib/data:loader_benchmark is compared with
(ci/bench/bench_loader.sh).

torch uses one thread in the main process and in every worker, so the baseline uses the same
cores as the loader's --threads=N: N DataLoader workers decode and transform, the main process
only receives the batches. --workers=0 does everything in the main process (strictly one core).
In the baseline's favour: the workers persist across epochs (persistent_workers=True; the
default restarts them every epoch), and the timer starts at ImageFolder(...), after Python and
torch have started (1-2 s).

    loader_baseline.py --data=DIR --workers=N [--epochs=1] [--size=224] [--out=F.json]

Prints one line (images, seconds, images/s) and, with --out, writes it as JSON.
"""

import argparse
import json
import sys
import time

import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


def _init_worker(_):
    torch.set_num_threads(1)


def run(data, workers, epochs=1, size=224, batch_size=64):
    """Returns a dict with images, batches, seconds, images_per_second."""
    torch.set_num_threads(1)
    start = time.perf_counter()
    transform = transforms.Compose([
        transforms.RandomResizedCrop(size),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
    ])
    dataset = datasets.ImageFolder(data, transform=transform)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=workers,
                        worker_init_fn=_init_worker if workers > 0 else None,
                        persistent_workers=workers > 0)
    images = 0
    batches = 0
    for _ in range(epochs):
        for batch_images, labels in loader:
            if batch_images.shape[1:] != (3, size, size) or labels.shape[0] != batch_images.shape[0]:
                raise SystemExit('loader_baseline: unexpected batch shape %s' % (batch_images.shape,))
            images += batch_images.shape[0]
            batches += 1
    seconds = time.perf_counter() - start
    del loader  # Stops the persistent workers.
    if images == 0:
        raise SystemExit('loader_baseline: no images under %s' % data)
    return {
        'images': images,
        'batches': batches,
        'workers': workers,
        'epochs': epochs,
        'seconds': seconds,
        'images_per_second': images / seconds,
        'versions': {'torch': torch.__version__,
                     'torchvision': __import__('torchvision').__version__,
                     'Pillow': __import__('PIL').__version__},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--data', required=True, help='ImageFolder root (root/<class>/<image>)')
    parser.add_argument('--workers', type=int, default=0, help='DataLoader num_workers')
    parser.add_argument('--epochs', type=int, default=1)
    parser.add_argument('--size', type=int, default=224, help='RandomResizedCrop size')
    parser.add_argument('--batch_size', type=int, default=64)
    parser.add_argument('--out', help='write the result as JSON here')
    args = parser.parse_args()
    result = run(args.data, args.workers, args.epochs, args.size, args.batch_size)
    print('loader_baseline: images=%d workers=%d seconds=%.4f images_per_second=%.1f'
          % (result['images'], args.workers, result['seconds'], result['images_per_second']))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
