#!/usr/bin/env python3
"""Per-channel mean/std of an ImageFolder dataset, the way people do it today in PyTorch.

torchvision ImageFolder + Compose([Resize(S), CenterCrop(C), ToTensor()]) + DataLoader
(batch_size=64, num_workers=N); per-channel sum and sum of squares accumulated in float64 over
every pixel; std is the population standard deviation over all pixels of all images. Values are
ToTensor's, i.e. scaled to [0, 1], RGB order. This is the baseline that compute_stats is
compared with (ci/bench/bench_compute_stats.sh).

torch uses one thread in the main process and in every worker, so the baseline uses the same
cores as compute_stats --threads=N: N loader workers (plus a main process that only sums).
--workers=0 decodes in the main process (strictly one core).

    stats_baseline.py --data=DIR --workers=N [--resize_shorter=256 --center_crop=224] [--out=F.json]
"""

import argparse
import functools
import json
import os
import sys
import time

import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


def _init_worker(_):
    torch.set_num_threads(1)


class TolerantImageFolder(datasets.ImageFolder):
    """ImageFolder that yields None for a file PIL cannot read (--skip_bad)."""

    def __getitem__(self, index):
        try:
            return super().__getitem__(index)
        except (OSError, ValueError, SyntaxError) as e:  # PIL's errors for bad files
            print('stats_baseline: skipped %s: %s' % (self.samples[index][0], e), file=sys.stderr)
            return None


def _collate(stack, batch):
    """(images, skipped): images stacked N x 3 x H x W when `stack`, else a list of 3 x H x W."""
    good = [sample[0] for sample in batch if sample is not None]
    images = torch.stack(good) if stack and good else good
    return images, len(batch) - len(good)


def make_transform(resize_shorter, center_crop):
    steps = []
    if resize_shorter > 0:
        steps.append(transforms.Resize(resize_shorter))
    if center_crop > 0:
        steps.append(transforms.CenterCrop(center_crop))
    steps.append(transforms.ToTensor())
    return transforms.Compose(steps)


def compute(data, workers, resize_shorter=256, center_crop=224, batch_size=64, skip_bad=False):
    """Returns a dict with mean, std, images, pixels, skipped, seconds."""
    torch.set_num_threads(1)
    start = time.perf_counter()
    folder = TolerantImageFolder if skip_bad else datasets.ImageFolder
    dataset = folder(data, transform=make_transform(resize_shorter, center_crop))
    stackable = center_crop > 0
    # The plain path is exactly what people write: default collate (stacks images and labels).
    # Without a center crop sizes differ, and --skip_bad must drop the None samples.
    plain = stackable and not skip_bad
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers,
                        worker_init_fn=_init_worker if workers > 0 else None,
                        collate_fn=None if plain else functools.partial(_collate, stackable))
    total = torch.zeros(3, dtype=torch.float64)
    total_sq = torch.zeros(3, dtype=torch.float64)
    pixels = 0
    images = 0
    skipped = 0
    for batch in loader:
        if plain:
            tensors = [batch[0]]
        else:
            batch_images, batch_skipped = batch
            skipped += batch_skipped
            if stackable:
                tensors = [batch_images] if len(batch_images) else []
            else:
                tensors = [img.unsqueeze(0) for img in batch_images]
        for x in tensors:  # N x 3 x H x W, float32 in [0, 1]
            x = x.to(torch.float64)
            total += x.sum(dim=(0, 2, 3))
            total_sq += (x * x).sum(dim=(0, 2, 3))
            pixels += x.shape[0] * x.shape[2] * x.shape[3]
            images += x.shape[0]
    seconds = time.perf_counter() - start
    if images == 0:
        raise SystemExit('stats_baseline: no images under %s' % data)
    mean = total / pixels
    var = (total_sq / pixels - mean * mean).clamp(min=0)
    return {
        'mean': mean.tolist(),
        'std': var.sqrt().tolist(),
        'images': images,
        'pixels': pixels,
        'skipped': skipped,
        'seconds': seconds,
        'images_per_second': images / seconds,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--data', required=True, help='ImageFolder root (root/<class>/<image>)')
    parser.add_argument('--workers', type=int, default=0, help='DataLoader num_workers')
    parser.add_argument('--resize_shorter', type=int, default=256, help='0 skips Resize')
    parser.add_argument('--center_crop', type=int, default=224, help='0 skips CenterCrop')
    parser.add_argument('--batch_size', type=int, default=64)
    parser.add_argument('--skip_bad', action='store_true',
                        help='skip (and count) files PIL cannot read instead of failing')
    parser.add_argument('--out', help='write the result as JSON here')
    args = parser.parse_args()
    if args.workers < 0 or args.resize_shorter < 0 or args.center_crop < 0:
        parser.error('--workers, --resize_shorter and --center_crop must be >= 0')
    if not os.path.isdir(args.data):
        print('stats_baseline: %s is not a directory' % args.data, file=sys.stderr)
        return 2
    result = compute(args.data, args.workers, args.resize_shorter, args.center_crop,
                     args.batch_size, args.skip_bad)
    result.update({'data': os.path.abspath(args.data), 'workers': args.workers,
                   'resize_shorter': args.resize_shorter, 'center_crop': args.center_crop,
                   'batch_size': args.batch_size, 'torch': torch.__version__})
    print('stats_baseline: images=%d skipped=%d workers=%d %.2f s %.1f images/s mean=%s std=%s'
          % (result['images'], result['skipped'], args.workers, result['seconds'],
             result['images_per_second'],
             ','.join('%.6f' % v for v in result['mean']),
             ','.join('%.6f' % v for v in result['std'])))
    if args.out:
        tmp = args.out + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(result, f, indent=1)
            f.write('\n')
        os.replace(tmp, args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
