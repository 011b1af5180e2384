#!/usr/bin/env python3
"""Checks ci/bench/stats_baseline.py on tiny datasets whose statistics are known.

    python3 ci/bench/stats_baseline_test.py
"""

import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from PIL import Image

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stats_baseline  # noqa: E402


def save(root, cls, name, array):
    os.makedirs(os.path.join(root, cls), exist_ok=True)
    Image.fromarray(array).save(os.path.join(root, cls, name))  # PNG: lossless


class StatsBaselineTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def test_hand_computed(self):
        # 16 red pixels and 64 black ones: R mean 0.2, std sqrt(0.2 * 0.8) = 0.4.
        red = np.zeros((4, 4, 3), np.uint8)
        red[..., 0] = 255
        save(self.root, 'a', 'red.png', red)
        save(self.root, 'b', 'black.png', np.zeros((8, 8, 3), np.uint8))
        r = stats_baseline.compute(self.root, workers=0, resize_shorter=0, center_crop=0)
        self.assertEqual(r['images'], 2)
        self.assertEqual(r['pixels'], 80)
        np.testing.assert_allclose(r['mean'], [0.2, 0.0, 0.0], atol=1e-12)
        np.testing.assert_allclose(r['std'], [0.4, 0.0, 0.0], atol=1e-7)

    def test_matches_numpy_over_raw_pixels(self):
        rng = np.random.default_rng(1)
        arrays = []
        for i, (h, w) in enumerate([(30, 40), (50, 20), (33, 33), (7, 90), (64, 64)]):
            a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            arrays.append(a)
            save(self.root, 'c%d' % (i % 2), 'img%d.png' % i, a)
        flat = np.concatenate([a.reshape(-1, 3) for a in arrays]).astype(np.float64) / 255
        for workers in (0, 2):
            r = stats_baseline.compute(self.root, workers=workers, resize_shorter=0,
                                       center_crop=0, batch_size=2)
            self.assertEqual(r['images'], 5)
            np.testing.assert_allclose(r['mean'], flat.mean(axis=0), atol=1e-12)
            np.testing.assert_allclose(r['std'], flat.std(axis=0), atol=1e-7)

    def test_resize_and_crop_match_pil(self):
        rng = np.random.default_rng(2)
        crops = []
        for i, (h, w) in enumerate([(40, 60), (75, 50), (64, 64)]):
            a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            save(self.root, 'c', 'img%d.png' % i, a)
            # torchvision: shorter side to 32 (longer truncated), bilinear; crop offsets rounded.
            short, long_ = min(h, w), max(h, w)
            size = (32, int(32 * long_ / short)) if w <= h else (int(32 * long_ / short), 32)
            img = Image.fromarray(a).resize(size, Image.BILINEAR)
            x0 = int(round((img.width - 24) / 2.0))
            y0 = int(round((img.height - 24) / 2.0))
            crops.append(np.asarray(img.crop((x0, y0, x0 + 24, y0 + 24))).reshape(-1, 3))
        flat = np.concatenate(crops).astype(np.float64) / 255
        r = stats_baseline.compute(self.root, workers=1, resize_shorter=32, center_crop=24)
        self.assertEqual(r['pixels'], 3 * 24 * 24)
        np.testing.assert_allclose(r['mean'], flat.mean(axis=0), atol=1e-9)
        np.testing.assert_allclose(r['std'], flat.std(axis=0), atol=1e-7)

    def test_skip_bad(self):
        save(self.root, 'a', 'gray.png', np.full((10, 12, 3), 102, np.uint8))
        with open(os.path.join(self.root, 'a', 'empty.JPEG'), 'wb'):
            pass
        buf = io.BytesIO()
        Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(buf, 'JPEG')
        with open(os.path.join(self.root, 'a', 'truncated.JPEG'), 'wb') as f:
            f.write(buf.getvalue()[:300])
        with self.assertRaises(OSError):
            stats_baseline.compute(self.root, workers=0, resize_shorter=0, center_crop=0)
        for crop in (0, 8):
            r = stats_baseline.compute(self.root, workers=1, resize_shorter=crop,
                                       center_crop=crop, skip_bad=True)
            self.assertEqual((r['images'], r['skipped']), (1, 2))
            np.testing.assert_allclose(r['mean'], [0.4] * 3, atol=1e-7)

    def test_cli_writes_json(self):
        save(self.root, 'a', 'gray.png', np.full((10, 12, 3), 51, np.uint8))
        out = os.path.join(self.root, 'out.json')
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'stats_baseline.py')
        proc = subprocess.run([sys.executable, script, '--data=' + self.root, '--workers=1',
                               '--resize_shorter=8', '--center_crop=8', '--out=' + out],
                              capture_output=True, text=True, check=True)
        self.assertIn('stats_baseline: images=1', proc.stdout)
        with open(out) as f:
            r = json.load(f)
        np.testing.assert_allclose(r['mean'], [0.2] * 3, atol=1e-7)
        np.testing.assert_allclose(r['std'], [0.0] * 3, atol=1e-6)
        self.assertEqual(r['images'], 1)


if __name__ == '__main__':
    unittest.main()
