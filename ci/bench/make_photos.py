#!/usr/bin/env python3
"""Makes an ImageNet-like benchmark set from real camera photographs.

The photographs come from packages installed by ci/bench/install_photos.sh (Debian's
lomiri-wallpapers-16.04 and palapeli-data; the sample photos in the scikit-image and
scikit-learn wheels). Every output image is a crop of one source photograph, at a random
position and a random scale, resized with Pillow's LANCZOS filter to 500x375 (landscape) or
375x500 (portrait) and saved with Pillow as a baseline JPEG, quality 90, 4:2:0 chroma
subsampling, into an ImageFolder layout:

    OUT_DIR/<wnid>/<wnid>_<index>.JPEG      (10 class folders n90000000 .. n90000009)
    OUT_DIR/.manifest.json                  (parameters, sources with sha256, statistics)

The set is deterministic: image i depends only on --seed, i and the source files (whose
sha256 the manifest records), not on --n, so a larger set starts with the smaller one.
Crops never upsample: a crop is at least as large as the output in both directions.

Why crops of large photographs: decoding cost is dominated by entropy decoding, i.e. by how
much detail (bytes) an image has. Downscaling a 1.5-16 MP camera photo to 500x375 keeps the most
detail per pixel; generated images and smooth desktop wallpapers have far fewer bytes.

    make_photos.py --out_dir=DIR [--n=400] [--report]   # generate (then time decoding)
    make_photos.py --report_dir=DIR                      # time Pillow decoding of any folder
"""

import argparse
import hashlib
import io
import json
import multiprocessing
import os
import random
import shutil
import statistics
import sys
import time

from PIL import Image, ImageOps, features

LANDSCAPE = (500, 375)
PORTRAIT = (375, 500)
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp')
# Typical ImageNet train/val image: about 500x375 and 110 KB; libjpeg-turbo decodes one in
# roughly 2-3 ms on one core of a current x86 server.
IMAGENET_MEAN_KB = 110.0
IMAGENET_DECODE_MS = (2.0, 3.0)


def cache_root():
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(base, 'resnet-forge')


def default_py_root():
    return os.path.join(cache_root(), 'bench-sources', 'py')


# (package, path, sha256 prefix). "{py}" is the pip --target root of install_photos.sh. A
# source whose sha256 differs (a new package version) is used with a warning: the set then
# differs from other machines' sets.
# Left out on purpose: umang_by_Abhishek_Mudgal.jpg (digital art, not a photograph);
# Bridge_by_Sander_Klootwijk, free_by_Peter_Nerlich, greentock_by_Peter_Nerlich and
# skimage's rocket.jpg (real photos, but mostly sky or blurred background: under 30 KB per
# crop, they pull the mean further below ImageNet's); skimage's chelsea.png (451x300, smaller
# than the output) and the grayscale test images.
SOURCES = [
    ('lomiri-wallpapers-16.04', '/usr/share/backgrounds/Dragonfly_by_Bolly.jpg',
     'af5af17841009732'),
    ('lomiri-wallpapers-16.04', '/usr/share/backgrounds/Picture_0B_by_freespace.jpg',
     'c8c0ab18e48d9e04'),
    ('lomiri-wallpapers-16.04', '/usr/share/backgrounds/Picture_1A_by_freespace.jpg',
     '89e86af38d04daae'),
    ('lomiri-wallpapers-16.04', '/usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg',
     'd2e96e6d4da40dd8'),
    ('lomiri-wallpapers-16.04', '/usr/share/backgrounds/aitzgorri_by_Aitzol_Berasategi.jpg',
     '66268e7b48f8854d'),
    ('lomiri-wallpapers-16.04', '/usr/share/backgrounds/analogpattern_by_Peter_Nerlich.jpg',
     '15372488a192b2be'),
    ('lomiri-wallpapers-16.04', '/usr/share/backgrounds/friends_by_Aitzol_Berasategi.jpg',
     'cc40e313c74e421e'),
    ('lomiri-wallpapers-16.04', '/usr/share/backgrounds/life_by_Aitzol_Berasategi.jpg',
     '4c119350ead80201'),
    ('lomiri-wallpapers-16.04', '/usr/share/backgrounds/picosdeeuropa_by_Aitzol_Berasategi.jpg',
     '414d0072b2f6f2c5'),
    ('lomiri-wallpapers-16.04', '/usr/share/backgrounds/seeding_by_Clements_Engelhardt.jpg',
     'a5634d1ab5e41a35'),
    ('lomiri-wallpapers-16.04', '/usr/share/backgrounds/sunset_by_Aitzol_Berasategi.jpg',
     '474dab6a4b9f94dc'),
    ('palapeli-data', '/usr/share/palapeli/collection/castle-maintenon.jpg',
     'f4a6bf48b97d9771'),
    ('palapeli-data', '/usr/share/palapeli/collection/cincinnati-bridge.jpg',
     '09772d09318b34a5'),
    ('palapeli-data', '/usr/share/palapeli/collection/citrus-fruits.jpg',
     '0cbd7154a1478980'),
    ('palapeli-data', '/usr/share/palapeli/collection/european-honey-bee.jpg',
     '9d54ae706bddd899'),
    ('palapeli-data', '/usr/share/palapeli/collection/panther-chameleon-female.jpg',
     'adb9e2834a8a3db4'),
    ('scikit-image', '{py}/scikit-image/skimage/data/astronaut.png',
     '88431cd9653ccd53'),
    ('scikit-image', '{py}/scikit-image/skimage/data/coffee.png',
     'cc02f8ca188b167c'),
    ('scikit-image', '{py}/scikit-image/skimage/data/motorcycle_left.png',
     'db18e9c415761740'),
    ('scikit-learn', '{py}/scikit-learn/sklearn/datasets/images/china.jpg',
     '8378025ad2519d64'),
    ('scikit-learn', '{py}/scikit-learn/sklearn/datasets/images/flower.jpg',
     'a77f6ec41e353afd'),
]


def sha256_of(path):
    with open(path, 'rb') as f:
        return hashlib.file_digest(f, 'sha256').hexdigest()


def load_source(path):
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im)
        return im.convert('RGB')


def crop_spec(index, seed, source_sizes, order, portrait_fraction, min_scale):
    """Everything about output image `index`, from its own random stream."""
    rng = random.Random('%d:%d' % (seed, index))
    src = order[index % len(order)]
    width, height = source_sizes[src]
    portrait = rng.random() < portrait_fraction
    out_w, out_h = PORTRAIT if portrait else LANDSCAPE
    # Largest window of the output's aspect ratio that fits in the source.
    scale_fit = min(width / out_w, height / out_h)
    max_w, max_h = out_w * scale_fit, out_h * scale_fit
    # Never upsample: the window is at least the output size.
    lowest = min(1.0, max(min_scale, out_w / max_w))
    scale = rng.uniform(lowest, 1.0)
    crop_w, crop_h = max_w * scale, max_h * scale
    x = rng.uniform(0, width - crop_w)
    y = rng.uniform(0, height - crop_h)
    return {
        'index': index,
        'source': src,
        'size': (out_w, out_h),
        'box': (x, y, x + crop_w, y + crop_h),
        'flip': rng.random() < 0.5,
    }


def render(image, spec, quality):
    out = image.resize(spec['size'], Image.LANCZOS, box=spec['box'])
    if spec['flip']:
        out = out.transpose(Image.FLIP_LEFT_RIGHT)
    buf = io.BytesIO()
    out.save(buf, 'JPEG', quality=quality, subsampling=2, optimize=False, progressive=False)
    return buf.getvalue()


def _work(job):
    path, specs, quality, out_dir, classes = job
    image = load_source(path)
    done = []
    for spec in specs:
        data = render(image, spec, quality)
        wnid = classes[spec['index'] % len(classes)]
        rel = os.path.join(wnid, '%s_%04d.JPEG' % (wnid, spec['index']))
        with open(os.path.join(out_dir, rel), 'wb') as f:
            f.write(data)
        done.append({'file': rel, 'bytes': len(data), 'width': spec['size'][0],
                     'height': spec['size'][1], 'source': os.path.basename(path),
                     'scale': (spec['box'][2] - spec['box'][0]) / spec['size'][0]})
    return done


def resolve_sources(py_root):
    resolved, missing = [], []
    for package, path, _ in SOURCES:
        full = path.replace('{py}', py_root)
        (resolved if os.path.isfile(full) else missing).append((package, full))
    if missing:
        for package, full in missing:
            print('make_photos: missing source %s (package %s)' % (full, package), file=sys.stderr)
        print('make_photos: run ci/bench/install_photos.sh first', file=sys.stderr)
        sys.exit(2)
    return resolved


def source_size(path):
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im)
        return im.size


def summarize(records):
    sizes = [r['bytes'] for r in records]
    return {
        'images': len(records),
        'mean_bytes': statistics.fmean(sizes),
        'median_bytes': statistics.median(sizes),
        'min_bytes': min(sizes),
        'max_bytes': max(sizes),
        'mean_width': statistics.fmean(r['width'] for r in records),
        'mean_height': statistics.fmean(r['height'] for r in records),
        'landscape': sum(1 for r in records if r['width'] > r['height']),
        'portrait': sum(1 for r in records if r['width'] < r['height']),
    }


def generate(args):
    out_dir = os.path.abspath(args.out_dir)
    if os.path.exists(out_dir):
        if not args.force:
            print('make_photos: %s exists (use --force to replace it)' % out_dir, file=sys.stderr)
            sys.exit(2)
    sources = resolve_sources(args.py_root)
    paths = [full for _, full in sources]
    digests = [sha256_of(p) for p in paths]
    for (package, full), digest, (_, _, expected) in zip(sources, digests, SOURCES):
        if not digest.startswith(expected):
            print('make_photos: WARNING: %s (package %s) is not the file this set was made with '
                  '(sha256 %s..., expected %s...): the set differs from other machines\''
                  % (full, package, digest[:16], expected), file=sys.stderr)
    sizes = [source_size(p) for p in paths]
    order = list(range(len(paths)))
    random.Random('order:%d' % args.seed).shuffle(order)
    classes = ['n9%07d' % k for k in range(args.classes)]

    specs = [crop_spec(i, args.seed, sizes, order, args.portrait_fraction, args.min_scale)
             for i in range(args.n)]
    tmp = '%s.tmp-%d' % (out_dir, os.getpid())
    shutil.rmtree(tmp, ignore_errors=True)
    for wnid in classes:
        os.makedirs(os.path.join(tmp, wnid))
    jobs = []
    for src, path in enumerate(paths):
        mine = [s for s in specs if s['source'] == src]
        if mine:
            jobs.append((path, mine, args.quality, tmp, classes))
    # Biggest sources first so that the pool finishes together.
    jobs.sort(key=lambda j: -os.path.getsize(j[0]))
    start = time.monotonic()
    records = []
    workers = max(1, min(args.jobs, len(jobs)))
    if workers == 1:
        for job in jobs:
            records.extend(_work(job))
    else:
        with multiprocessing.get_context('fork').Pool(workers) as pool:
            for done in pool.imap_unordered(_work, jobs):
                records.extend(done)
    records.sort(key=lambda r: r['file'])
    stats = summarize(records)
    manifest = {
        'generator': 'ci/bench/make_photos.py',
        'params': {'n': args.n, 'seed': args.seed, 'quality': args.quality, 'subsampling': '4:2:0',
                   'classes': args.classes, 'portrait_fraction': args.portrait_fraction,
                   'min_scale': args.min_scale, 'resample': 'LANCZOS'},
        'pillow': Image.__version__,
        'libjpeg_turbo': features.version('libjpeg_turbo'),
        'sources': [{'package': pkg, 'path': full, 'bytes': os.path.getsize(full),
                     'size': list(sz), 'sha256': digest}
                    for (pkg, full), sz, digest in zip(sources, sizes, digests)],
        'stats': stats,
        'files': records,
    }
    with open(os.path.join(tmp, '.manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    os.rename(tmp, out_dir)
    print('make_photos: wrote %d images from %d photographs to %s in %.1f s'
          % (len(records), len(jobs), out_dir, time.monotonic() - start))
    print('make_photos: mean %.1f KB (median %.1f, min %.1f, max %.1f; ImageNet ~%.0f KB), '
          'mean %.0fx%.0f px, %d landscape 500x375 + %d portrait 375x500, quality %d 4:2:0'
          % (stats['mean_bytes'] / 1e3, stats['median_bytes'] / 1e3, stats['min_bytes'] / 1e3,
             stats['max_bytes'] / 1e3, IMAGENET_MEAN_KB, stats['mean_width'],
             stats['mean_height'], stats['landscape'], stats['portrait'], args.quality))
    if args.verbose:
        per_source = {}
        for r in records:
            per_source.setdefault(r['source'], []).append(r['bytes'])
        for name, b in sorted(per_source.items(), key=lambda kv: -statistics.fmean(kv[1])):
            print('  %-45s %3d images  mean %5.1f KB' % (name, len(b), statistics.fmean(b) / 1e3))
    return out_dir


def list_images(root):
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith('.'))
        for name in sorted(filenames):
            if not name.startswith('.') and name.lower().endswith(IMAGE_EXTENSIONS):
                files.append(os.path.join(dirpath, name))
    return files


def report(root, repeat):
    """Single-thread Pillow decode time per image, from bytes already in memory."""
    files = list_images(root)
    if not files:
        print('make_photos: no images under %s' % root, file=sys.stderr)
        sys.exit(2)
    blobs = []
    for path in files:
        with open(path, 'rb') as f:
            blobs.append(f.read())
    pixels = 0
    for b in blobs[:1]:  # warm up
        Image.open(io.BytesIO(b)).load()
    best = None
    for _ in range(repeat):
        pixels = 0
        start = time.perf_counter()
        for b in blobs:
            im = Image.open(io.BytesIO(b))
            im.load()
            pixels += im.size[0] * im.size[1]
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    n = len(blobs)
    total_bytes = sum(len(b) for b in blobs)
    ms = best / n * 1e3
    lo, hi = IMAGENET_DECODE_MS
    print('make_photos: decode (Pillow %s, libjpeg-turbo %s, 1 thread, best of %d passes, '
          'bytes in memory): %d images, mean %.1f KB, %.0f x %.0f px'
          % (Image.__version__, features.version('libjpeg_turbo'), repeat, n, total_bytes / n / 1e3,
             statistics.fmean(Image.open(io.BytesIO(b)).size[0] for b in blobs[:200]),
             statistics.fmean(Image.open(io.BytesIO(b)).size[1] for b in blobs[:200])))
    print('make_photos: decode %.2f ms/image = %.0f images/s/core, %.1f MB/s compressed, '
          '%.1f Mpixel/s; typical ImageNet (~110 KB, ~500x375): %.0f-%.0f ms/image/core '
          '(this set: %.2f-%.2fx of that)'
          % (ms, 1e3 / ms, total_bytes / best / 1e6, pixels / best / 1e6, lo, hi, ms / hi, ms / lo))
    return ms


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out_dir', help='folder to create (ImageFolder layout)')
    parser.add_argument('--n', type=int, default=400, help='number of images')
    parser.add_argument('--classes', type=int, default=10, help='number of class folders')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--quality', type=int, default=90, help='JPEG quality (4:2:0 always)')
    parser.add_argument('--portrait_fraction', type=float, default=0.25)
    parser.add_argument('--min_scale', type=float, default=0.5,
                        help='smallest crop, as a fraction of the largest window that fits')
    parser.add_argument('--py_root', default=default_py_root(),
                        help='pip --target root of install_photos.sh')
    parser.add_argument('--jobs', type=int, default=os.cpu_count() or 1)
    parser.add_argument('--force', action='store_true', help='replace --out_dir if it exists')
    parser.add_argument('--report', action='store_true',
                        help='after generating, time single-thread Pillow decoding')
    parser.add_argument('--report_dir', help='only time Pillow decoding of the images under here')
    parser.add_argument('--repeat', type=int, default=3, help='timing passes (best is kept)')
    parser.add_argument('-v', '--verbose', action='store_true', help='mean size per source')
    args = parser.parse_args()
    if args.report_dir:
        report(args.report_dir, args.repeat)
        return
    if not args.out_dir:
        parser.error('--out_dir or --report_dir is required')
    if args.n < 1 or args.classes < 1 or not 1 <= args.quality <= 100:
        parser.error('--n and --classes must be >= 1, --quality in 1..100')
    out_dir = generate(args)
    if args.report:
        report(out_dir, args.repeat)


if __name__ == '__main__':
    main()
