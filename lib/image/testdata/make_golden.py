#!/usr/bin/env python3
"""Writes the Pillow/torchvision golden fixtures that lib/image's tests compare against.

Run by hand from this directory (the Bazel tests never run Python):
    python3 make_golden.py
Needs Pillow and numpy; torchvision for the Resize/CenterCrop goldens. Written with Pillow
13.0.0 (libjpeg-turbo 3.1.2 inside) and torchvision 0.26.

Outputs, all small:
  *.jpg, *.png      inputs made here (JPEGs by Pillow's libjpeg-turbo, PNGs by hand so that
                    every PNG colour type and bit depth is covered)
  decode_golden.txt one line per input: file, width, height, and Pillow's
                    Image.open(f).convert("RGB") pixels as hex (tiny images) or as
                    fnv1a64:<hash> sum:<byte sum> (bigger ones)
  resize_golden.txt one line per case on synthetic images (see pattern() below, mirrored in
                    resize_test.cc): Pillow's resize(BILINEAR), torchvision's Resize(size) and
                    CenterCrop((h, w)), as hex or as a hash
"""
import io
import random
import struct
import zlib

import numpy as np
from PIL import Image

HEX_LIMIT = 120  # Bytes of pixels above which a golden is stored as a hash.


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def encode_pixels(rgb: np.ndarray) -> str:
    data = np.ascontiguousarray(rgb, dtype=np.uint8).tobytes()
    if len(data) <= HEX_LIMIT:
        return data.hex()
    return "fnv1a64:%016x sum:%d" % (fnv1a64(data), sum(data))


def pattern(kind: str, width: int, height: int) -> np.ndarray:
    """Synthetic RGB images, reproduced byte for byte by resize_test.cc's Pattern()."""
    if kind == "noise":  # ANSI C rand()'s LCG, high bits; the hardest case for rounding.
        state = 12345
        out = bytearray()
        for _ in range(width * height * 3):
            state = (state * 1103515245 + 12345) & 0x7FFFFFFF
            out.append((state >> 16) & 0xFF)
        return np.frombuffer(bytes(out), np.uint8).reshape(height, width, 3)
    if kind == "ramp":  # Smooth gradients with a hard wrap-around edge.
        y, x, c = np.meshgrid(np.arange(height), np.arange(width), np.arange(3), indexing="ij")
        return ((x * 7 + y * 13 + c * 50) % 256).astype(np.uint8)
    raise ValueError(kind)


def photo_like(width, height, seed):
    """Gradients plus a little noise: compresses like a photograph, stays small."""
    rng = np.random.RandomState(seed)
    y, x, c = np.meshgrid(np.arange(height), np.arange(width), np.arange(3), indexing="ij")
    base = (x * 9 + y * 6 + c * 70 + ((x // 4 + y // 4) % 2) * 60) % 256
    return np.clip(base + rng.randint(-25, 26, base.shape), 0, 255).astype(np.uint8)


def strip_app14(data: bytes) -> bytes:
    i = data.find(b"\xff\xee")
    assert i > 0
    length = struct.unpack(">H", data[i + 2:i + 4])[0]
    return data[:i] + data[i + 2 + length:]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def make_png(width, height, bit_depth, color_type, rows, extra=b"", interlace=0):
    """A PNG from raw (already packed, unfiltered) scanlines; `rows` is for non-interlaced."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace)
    raw = b"".join(b"\x00" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + extra +
            png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b""))


def jpeg_fixtures():
    files = {}
    rgb = Image.fromarray(photo_like(17, 11, 1))
    for name, kwargs in [
        ("rgb420_17x11.jpg", dict(quality=90, subsampling=2)),
        ("rgb422_17x11.jpg", dict(quality=90, subsampling=1)),
        ("rgb444_17x11.jpg", dict(quality=90, subsampling=0)),
        ("progressive420_17x11.jpg", dict(quality=85, subsampling=2, progressive=True)),
    ]:
        b = io.BytesIO()
        rgb.save(b, "JPEG", **kwargs)
        files[name] = b.getvalue()
    # A photo-sized image, to exercise many MCUs and restart-free long scans.
    big = Image.fromarray(photo_like(40, 24, 2))
    b = io.BytesIO()
    big.save(b, "JPEG", quality=75, progressive=True)
    files["progressive420_40x24.jpg"] = b.getvalue()
    b = io.BytesIO()
    big.save(b, "JPEG", quality=75)
    files["rgb420_40x24.jpg"] = b.getvalue()

    b = io.BytesIO()
    rgb.convert("L").save(b, "JPEG", quality=90)
    files["gray_17x11.jpg"] = b.getvalue()
    # Pillow writes CMYK JPEGs with an Adobe APP14 marker and inverted samples (Photoshop's
    # convention); the second copy has the marker removed.
    b = io.BytesIO()
    rgb.convert("CMYK").save(b, "JPEG", quality=90)
    files["cmyk_adobe_17x11.jpg"] = b.getvalue()
    files["cmyk_noadobe_17x11.jpg"] = strip_app14(b.getvalue())
    return files


def png_fixtures():
    files = {}
    be16 = lambda a: np.asarray(a, dtype=">u2").tobytes()
    files["rgb16_3x2.png"] = make_png(3, 2, 16, 2, [
        be16([0x1234, 0xFF80, 0x00FF, 0x0080, 0x7FFF, 0x8000, 0xFFFF, 0x0001, 0xABCD]),
        be16([0x0000, 0x0100, 0x01FF, 0xFEFF, 0x8080, 0x7F7F, 0x4000, 0xC000, 0x00FE]),
    ])
    files["rgba16_2x1.png"] = make_png(2, 1, 16, 6, [
        be16([0x1234, 0xFF80, 0x00FF, 0x0102, 0x0080, 0x7FFF, 0x8000, 0xFFFF])])
    # 16-bit gray: Pillow makes an I;16 image and clamps it to 255 when converting to RGB.
    files["gray16_6x1.png"] = make_png(6, 1, 16, 0, [
        be16([0x0000, 0x00FF, 0x0100, 0x03E8, 0xFFFF, 0x0080])])
    files["grayalpha16_2x1.png"] = make_png(2, 1, 16, 4, [be16([0x1234, 0xFF80, 0x0080, 0x7FFF])])
    files["grayalpha8_2x1.png"] = make_png(2, 1, 8, 4, [bytes([10, 0, 40, 128])])
    files["rgba8_2x1.png"] = make_png(2, 1, 8, 6, [bytes([10, 20, 30, 0, 40, 50, 60, 128])])
    files["gray1_8x1.png"] = make_png(8, 1, 1, 0, [bytes([0b10100110])])
    files["gray2_4x1.png"] = make_png(4, 1, 2, 0, [bytes([0b00011011])])
    files["gray4_2x1.png"] = make_png(2, 1, 4, 0, [bytes([0x3C])])
    # Palette of 3 entries with tRNS; index 3 is outside the palette (black in Pillow).
    files["palette4_trns_4x1.png"] = make_png(
        4, 1, 4, 3, [bytes([0x01, 0x23])],
        png_chunk(b"PLTE", bytes([255, 0, 0, 0, 255, 0, 0, 0, 255])) +
        png_chunk(b"tRNS", bytes([0, 128])))
    files["palette8_3x1.png"] = make_png(
        3, 1, 8, 3, [bytes([2, 0, 1])], png_chunk(b"PLTE", bytes([9, 8, 7, 6, 5, 4, 3, 2, 1])))
    # Gray with tRNS and RGB with tRNS and gAMA: transparency and gamma are ignored.
    files["gray8_trns_2x1.png"] = make_png(2, 1, 8, 0, [bytes([5, 7])],
                                           png_chunk(b"tRNS", bytes([0, 5])))
    files["rgb8_gama_trns_2x1.png"] = make_png(
        2, 1, 8, 2, [bytes([5, 7, 9, 1, 2, 3])],
        png_chunk(b"gAMA", struct.pack(">I", 100000)) +
        png_chunk(b"tRNS", bytes([0, 5, 0, 7, 0, 9])))
    # Adam7-interlaced RGB 5x3 (Pillow cannot write interlaced PNGs): the seven pass images,
    # each row unfiltered, in one zlib stream.
    img = pattern("ramp", 5, 3)
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
              (0, 1, 1, 2)]
    raw = b""
    for x0, y0, dx, dy in passes:
        sub = img[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        raw += b"".join(b"\x00" + row.tobytes() for row in sub)
    ihdr = struct.pack(">IIBBBBB", 5, 3, 8, 2, 0, 0, 1)
    files["interlaced_rgb_5x3.png"] = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) +
                                       png_chunk(b"IDAT", zlib.compress(raw, 9)) +
                                       png_chunk(b"IEND", b""))
    return files


def main():
    lines = ["# file width height pixels (Pillow %s: Image.open(f).convert('RGB'))"
             % Image.__version__]
    for name, data in sorted({**jpeg_fixtures(), **png_fixtures()}.items()):
        with open(name, "wb") as f:
            f.write(data)
        im = Image.open(io.BytesIO(data)).convert("RGB")
        lines.append("%s %d %d %s" % (name, im.width, im.height, encode_pixels(np.asarray(im))))
    with open("decode_golden.txt", "w") as f:
        f.write("\n".join(lines) + "\n")

    import torchvision.transforms as T  # Only needed here.
    lines = ["# op pattern in_width in_height arg_width arg_height out_width out_height pixels",
             "# resize: Image.resize((arg_width, arg_height), BILINEAR); shorter: "
             "torchvision Resize(arg_width); crop: torchvision CenterCrop((arg_height, arg_width))"]
    resize_cases = [
        ("noise", 13, 9, [(5, 4), (7, 9), (13, 4), (19, 14), (1, 1), (3, 20), (40, 3), (13, 9),
                          (6, 9), (26, 18), (12, 8), (4, 3)]),
        ("ramp", 16, 16, [(5, 7), (33, 31), (16, 3)]),
        ("noise", 500, 375, [(341, 256), (224, 224), (1000, 750), (499, 374), (64, 48)]),
        ("ramp", 375, 500, [(256, 341), (100, 700)]),
        # Pillow 13 filters vertically first when the height loses more than twice as many
        # pixels as the width: 60 - 10 > 2 * (20 - 15); 30 - 10 == 2 * (20 - 10) is the
        # boundary, still horizontal first; 300x700 is a tall photo.
        ("noise", 20, 60, [(15, 10), (10, 30), (30, 7)]),
        ("noise", 20, 30, [(10, 10), (11, 10)]),
        ("noise", 300, 700, [(256, 597), (100, 100)]),
    ]
    # Random sizes (both directions, mixed): 40 cases, fixed seed.
    rng = random.Random(2024)
    random_cases = []
    while len(random_cases) < 40:
        w, h = rng.randint(2, 60), rng.randint(2, 60)
        tw, th = rng.randint(1, 90), rng.randint(1, 90)
        if (tw, th) != (w, h):
            random_cases.append(("noise", w, h, [(tw, th)]))
    resize_cases += random_cases
    for kind, w, h, targets in resize_cases:
        src = Image.fromarray(pattern(kind, w, h))
        for tw, th in targets:
            out = src.resize((tw, th), Image.BILINEAR)
            lines.append("resize %s %d %d %d %d %d %d %s" % (kind, w, h, tw, th, out.width,
                                                               out.height,
                                                               encode_pixels(np.asarray(out))))
    for kind, w, h, size in [("noise", 500, 375, 256), ("noise", 375, 500, 256),
                             ("noise", 300, 700, 256),
                             ("ramp", 333, 500, 256), ("ramp", 500, 333, 256),
                             ("noise", 7, 5, 4), ("noise", 5, 7, 9), ("noise", 6, 6, 4)]:
        out = T.Resize(size)(Image.fromarray(pattern(kind, w, h)))
        lines.append("shorter %s %d %d %d 0 %d %d %s" % (kind, w, h, size, out.width, out.height,
                                                         encode_pixels(np.asarray(out))))
    for kind, w, h, cw, ch in [("noise", 7, 6, 4, 3), ("noise", 8, 5, 3, 2), ("noise", 5, 4, 8, 3),
                               ("noise", 3, 2, 6, 7), ("noise", 4, 7, 4, 9),
                               ("noise", 6, 9, 2, 4), ("noise", 9, 4, 4, 6),
                               ("noise", 341, 256, 224, 224)]:
        out = T.CenterCrop((ch, cw))(Image.fromarray(pattern(kind, w, h)))
        lines.append("crop %s %d %d %d %d %d %d %s" % (kind, w, h, cw, ch, out.width, out.height,
                                                       encode_pixels(np.asarray(out))))
    with open("resize_golden.txt", "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
