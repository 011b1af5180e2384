#!/usr/bin/env python3
"""Writes auto_augment_golden.txt, the torchvision/Pillow goldens of lib/data's auto_augment_test.

Run by hand from this directory (the Bazel tests never run Python):
    ~/.cache/resnet-forge/venv/bin/python3 make_auto_augment_golden.py
Needs torch, torchvision, Pillow and numpy. Written with torch 2.11.0, torchvision 0.26.0 and
Pillow 13.0.0 on an x86-64 CPU with AVX-512 (torch's CPU capability AVX512; AVX2 gives the same
tables, see below).

Two kinds of lines, '#' lines are comments:

  table POLICY BINS WIDTH HEIGHT OP SIGNED VALUES...
      torchvision's magnitude table of OP: TrivialAugmentWide()._augmentation_space(BINS) or
      RandAugment()._augmentation_space(BINS, (HEIGHT, WIDTH)), each value of
      float(table[i]) as the shortest decimal that reads back as the same float32 (the tables
      are float32 tensors), or the single word "none" for the ops without a magnitude;
      SIGNED is 1 when the policy negates the magnitude with probability 1/2.
  op PATTERN WIDTH HEIGHT OP MAGNITUDE PIXELS...
      torchvision.transforms.autoaugment._apply_op(image, OP, MAGNITUDE, NEAREST, fill=None) on
      the PIL image of pattern(PATTERN, WIDTH, HEIGHT) (mirrored by auto_augment_test.cc),
      MAGNITUDE as repr (exact), the result's pixels as hex (small images) or as
      "fnv1a64:<hash> sum:<byte sum>" (lib/image/golden.h's PixelsMatchGolden reads both).

torch.linspace's values depend on the kernel torch picks at run time: its AVX2 and AVX-512
kernels fuse the multiply-add of start + step * i (one rounding), its portable DEFAULT kernel
does not (two roundings), so a few entries differ in the last bit of the float (for example
TrivialAugmentWide's Brightness magnitude at index 19 is 0.62700003 with AVX2, 0.62699997
without).
The tables here are the AVX2/AVX-512 ones, what torchvision computes on any x86-64 CPU of the
last decade; this script refuses to run under another capability.
"""
import os
import sys

import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision.transforms import InterpolationMode
from torchvision.transforms.autoaugment import RandAugment, TrivialAugmentWide, _apply_op

# The pixel encoding lib/image/golden.h reads: hex for small images, else an FNV-1a hash and sum.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../image/testdata"))
from make_golden import encode_pixels  # noqa: E402

OPS = ["Identity", "ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Brightness",
       "Color", "Contrast", "Sharpness", "Posterize", "Solarize", "AutoContrast", "Equalize"]


def pattern(kind: str, width: int, height: int) -> np.ndarray:
    """Synthetic RGB images, reproduced byte for byte by auto_augment_test.cc's Pattern()."""
    if kind == "noise":  # ANSI C rand()'s LCG, bits 16..23 (as lib/image's make_golden.py).
        state = 12345
        out = bytearray(width * height * 3)
        for i in range(len(out)):
            state = (state * 1103515245 + 12345) & 0x7FFFFFFF
            out[i] = (state >> 16) & 0xFF
        return np.frombuffer(bytes(out), np.uint8).reshape(height, width, 3)
    y, x, c = np.meshgrid(np.arange(height), np.arange(width), np.arange(3), indexing="ij")
    if kind == "gradient":  # Smooth, no wrap-around, a range well inside [0, 255] per channel.
        return ((40 + 2 * x + 3 * y + 10 * c) % 256).astype(np.uint8)
    if kind == "flat":  # One colour: AutoContrast's and Equalize's "nothing to stretch" case.
        return (np.zeros((height, width, 3), np.int64) + np.array([7, 130, 250])).astype(np.uint8)
    if kind == "spike":  # All 0 but the last pixel, 1: Equalize's look-up value 256, clipped.
        out = np.zeros((height, width, 3), np.uint8)
        out[-1, -1, :] = 1
        return out
    raise ValueError(kind)


def tables(policy: str, bins: int, width: int, height: int):
    if policy == "trivial_augment_wide":
        space = TrivialAugmentWide(num_magnitude_bins=bins)._augmentation_space(bins)
    else:
        space = RandAugment(num_magnitude_bins=bins)._augmentation_space(bins, (height, width))
    assert list(space) == OPS, list(space)
    for name, (values, signed) in space.items():
        if values.ndim == 0:
            yield name, signed, None
        else:
            yield name, signed, [float(v) for v in values]


def apply(image: Image.Image, name: str, magnitude: float) -> np.ndarray:
    out = _apply_op(image, name, magnitude, interpolation=InterpolationMode.NEAREST, fill=None)
    assert out.mode == "RGB" and out.size == image.size
    return np.asarray(out)


GEOMETRIC = ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate")


def float32_repr(value: float) -> str:
    """The shortest decimal that reads back as the same float32 (the tables are float32)."""
    f = np.float32(value)
    assert float(f) == value
    return np.format_float_positional(f, unique=True, trim="-")


def magnitudes(name: str, width: int, height: int, ta_bins, ra_bins, extra=()):
    """The magnitudes of `name` at bins `ta_bins` of TrivialAugmentWide's 31-bin table and
    `ra_bins` of RandAugment's (for this image size), with both signs where the policy draws
    one, plus `extra`; sorted, without repeats."""
    values = set(extra)
    for policy, bins in (("trivial_augment_wide", ta_bins), ("rand_augment", ra_bins)):
        for op, signed, table in tables(policy, 31, width, height):
            if op != name:
                continue
            if table is None:
                values.add(0.0)
                continue
            for i in bins:
                values.add(table[i])
                if signed:
                    values.add(-table[i])
    return sorted(values)


def main():
    capability = torch.backends.cpu.get_cpu_capability()
    if capability not in ("AVX2", "AVX512"):
        sys.exit("torch's CPU capability is %s; the tables are AVX2/AVX512's (see the docstring)"
                 % capability)
    import PIL
    lines = ["# Written by make_auto_augment_golden.py: torch %s (CPU capability %s), "
             "torchvision %s, Pillow %s." % (torch.__version__, capability,
                                              torchvision.__version__, PIL.__version__),
             "# table POLICY BINS WIDTH HEIGHT OP SIGNED VALUES... | op PATTERN WIDTH HEIGHT OP "
             "MAGNITUDE PIXELS"]

    # TrivialAugmentWide's tables do not depend on the image size; RandAugment's translations
    # do, so those two are listed for more sizes.
    for policy, bins, sizes in (("trivial_augment_wide", 31, [(224, 224)]),
                                ("trivial_augment_wide", 10, [(224, 224)]),
                                ("trivial_augment_wide", 2, [(224, 224)]),
                                ("rand_augment", 31, [(224, 224), (37, 23), (500, 375), (331, 97),
                                                      (1, 1)]),
                                ("rand_augment", 10, [(224, 224), (37, 23)]),
                                ("rand_augment", 2, [(224, 224)])):
        for i, (width, height) in enumerate(sizes):
            for name, signed, table in tables(policy, bins, width, height):
                if i > 0 and not name.startswith("Translate"):
                    continue
                values = "none" if table is None else " ".join(float32_repr(v) for v in table)
                lines.append("table %s %d %d %d %s %d %s" % (policy, bins, width, height, name,
                                                             int(signed), values))

    # Per image: which bins of the 31-bin tables to apply (geometric ops, others), and whether
    # to add the extra magnitudes (rotations through Pillow's fast paths and past 180 degrees,
    # out-of-table shears, factors that clip, ...).
    extras = {
        "Rotate": (90.0, -90.0, 180.0, -180.0, 270.0, 360.0, 45.0, -135.0, 0.25, 1e-9),
        "ShearX": (0.5, -2.0), "ShearY": (0.5, -2.0),
        "TranslateX": (1000.0, -0.5, 3.999), "TranslateY": (1000.0, -0.5, 3.999),
        "Brightness": (-1.0, 0.7), "Color": (-1.0, 2.0), "Contrast": (-1.0, 2.0),
        "Sharpness": (-1.0, 2.0, 5.0), "Posterize": (1.0, 8.0), "Solarize": (256.0, 0.5, -1.0),
    }
    images = [
        # pattern, width, height, TA bins (geometric, others), RA bins, extras
        ("noise", 37, 23, range(31), range(0, 31, 3), (0, 9, 30), True),
        ("gradient", 40, 30, range(0, 31, 3), range(0, 31, 5), (9, 30), True),
        ("noise", 224, 224, range(0, 31, 6), range(0, 31, 10), (9,), True),
        ("gradient", 224, 224, (15, 30), (15, 30), (9,), False),
        ("noise", 23, 37, range(0, 31, 10), (30,), (9,), False),
        ("noise", 1, 1, (30,), (30,), (9,), False),
        ("noise", 2, 2, (30,), (30,), (9,), False),
        ("noise", 3, 3, (30,), (30,), (9,), False),
        ("noise", 4, 1, (30,), (30,), (9,), False),
        ("flat", 5, 4, (30,), (30,), (), False),
        ("spike", 32, 16, (30,), (30,), (), False),
    ]
    for kind, width, height, geometric_bins, other_bins, ra_bins, with_extras in images:
        image = Image.fromarray(pattern(kind, width, height))
        for name in OPS:
            ta_bins = geometric_bins if name in GEOMETRIC else other_bins
            for m in magnitudes(name, width, height, ta_bins, ra_bins,
                                extras.get(name, ()) if with_extras else ()):
                lines.append("op %s %d %d %s %r %s" % (kind, width, height, name, m,
                                                       encode_pixels(apply(image, name, m))))

    # Wider than Pillow's 16.16 fixed point reaches (|coordinate| >= 32768): its floating-point
    # affine loop.
    wide = Image.fromarray(pattern("noise", 33000, 3))
    for name, m in (("ShearX", 0.5), ("ShearX", -0.25), ("ShearY", 0.3), ("Rotate", 30.0),
                    ("Rotate", -0.001), ("TranslateX", -12345.0), ("Rotate", 90.0)):
        lines.append("op noise 33000 3 %s %r %s" % (name, m, encode_pixels(apply(wide, name, m))))

    with open("auto_augment_golden.txt", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %d lines" % len(lines))


if __name__ == "__main__":
    main()
