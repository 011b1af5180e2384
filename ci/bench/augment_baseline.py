#!/usr/bin/env python3
"""TrivialAugmentWide and RandAugment in torchvision's training transform, timed per image.

The baseline //lib/data:augment_benchmark is compared with (ci/bench/bench_augment.sh): the
same figures, the same photos, one thread, the files' bytes read into memory first, every
image decoded for every use, the figures interleaved as there (per image: the three
transforms from the same torch seed, so with the same crop and flip, then the 14 ops on its
crop, each call timed alone). Per image, in microseconds (the fastest of --rounds rounds of
--epochs passes over the images, after an untimed pass over the first 20):

  train       Image.open(bytes).convert("RGB") (torchvision's pil_loader) and
              Compose([RandomResizedCrop(224), RandomHorizontalFlip(), PILToTensor()])
  train_ta    the same with TrivialAugmentWide() after the flip (torchvision's recipe order)
  train_ra    the same with RandAugment() (2 ops, magnitude 9 of 31)
  op_<Op>     torchvision.transforms.autoaugment._apply_op(image, Op, m, NEAREST, None) on the
              224x224 PIL images of the photos' training crops, m the middle magnitude of
              TrivialAugmentWide's table (bin 15 of 31, positive), as augment_benchmark uses

PILToTensor ends the pipeline because our TrainTransform ends with the pixels written to a
buffer (torchvision's recipe continues with ConvertImageDtype and Normalize, which our loader
does on batches). torch runs with one thread.

    augment_baseline.py --data=DIR [--epochs=1] [--rounds=1] [--size=224] [--out=F.json]

Prints one line of key=value pairs (the keys augment_benchmark prints) and, with --out, writes
them as JSON.
"""

import argparse
import io
import json
import os
import sys
import time

import PIL
import torch
import torchvision
from PIL import Image
from torchvision import transforms as T
from torchvision.transforms import InterpolationMode
from torchvision.transforms.autoaugment import TrivialAugmentWide, _apply_op

IMAGE_EXTENSIONS = ('.jpg', '.jpeg')
WARM_UP = 20  # Images run through each figure's code untimed first.


def read_files(root):
    """The bytes of every JPEG under root (an ImageFolder), in sorted order."""
    paths = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        paths += [os.path.join(dirpath, f) for f in sorted(filenames)
                  if f.lower().endswith(IMAGE_EXTENSIONS)]
    data = []
    for path in paths:
        with open(path, 'rb') as f:
            data.append(f.read())
    return data


def run(data, epochs=1, rounds=1, size=224):
    torch.set_num_threads(1)
    files = read_files(data)
    if not files:
        raise SystemExit('augment_baseline: no JPEG files under %s' % data)
    load = lambda b: Image.open(io.BytesIO(b)).convert('RGB')
    figures = []  # (name, function of the sample index)
    for name, policy in (('train', None), ('train_ta', T.TrivialAugmentWide()),
                         ('train_ra', T.RandAugment())):
        steps = [T.RandomResizedCrop(size), T.RandomHorizontalFlip()]
        if policy is not None:
            steps.append(policy)
        transform = T.Compose(steps + [T.PILToTensor()])

        def one(i, transform=transform):
            out = transform(load(files[i]))
            assert out.shape == (3, size, size)

        figures.append((name, one))
    torch.manual_seed(2)
    crop = T.Compose([T.RandomResizedCrop(size), T.RandomHorizontalFlip()])
    crops = [crop(load(b)) for b in files]
    for op, (magnitudes, _) in TrivialAugmentWide()._augmentation_space(31).items():
        magnitude = float(magnitudes[15].item()) if magnitudes.ndim > 0 else 0.0

        def one(i, op=op, magnitude=magnitude):
            _apply_op(crops[i], op, magnitude, interpolation=InterpolationMode.NEAREST, fill=None)

        figures.append(('op_' + op, one))

    draw = [0]

    def one_pass(samples, seconds):
        """Every figure in turn per sample, each call timed alone; the three transforms start
        from the same torch seed, so they crop and flip alike."""
        for i in range(samples):
            draw[0] += 1
            for f, (_, one) in enumerate(figures):
                torch.manual_seed(draw[0])
                start = time.perf_counter()
                one(i)
                seconds[f] += time.perf_counter() - start

    seconds = [0.0] * len(figures)
    one_pass(min(WARM_UP, len(files)), seconds)
    best = [float('inf')] * len(figures)
    for _ in range(rounds):
        seconds = [0.0] * len(figures)
        for _ in range(epochs):
            one_pass(len(files), seconds)
        best = [min(b, s) for b, s in zip(best, seconds)]
    return {
        'images': len(files),
        'epochs': epochs,
        'us_per_image': {name: b / (epochs * len(files)) * 1e6
                         for (name, _), b in zip(figures, best)},
        'versions': {'torch': torch.__version__, 'torchvision': torchvision.__version__,
                     'Pillow': PIL.__version__},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--data', required=True, help='ImageFolder root (root/<class>/<image>)')
    parser.add_argument('--epochs', type=int, default=1, help='passes over the images per round')
    parser.add_argument('--rounds', type=int, default=1, help='timed rounds; the fastest counts')
    parser.add_argument('--size', type=int, default=224, help='RandomResizedCrop size')
    parser.add_argument('--out', help='write the result as JSON here')
    args = parser.parse_args()
    result = run(args.data, args.epochs, args.rounds, args.size)
    print('augment_baseline: images=%d epochs=%d %s' % (
        result['images'], args.epochs,
        ' '.join('%s_us=%.2f' % (k, v) for k, v in result['us_per_image'].items())))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
