// Encoders that turn raw pixels into JPEG and PNG bytes in memory, for tests that need image
// files of a particular kind (baseline, progressive, grayscale, Adobe CMYK JPEG; PNG).
//
// Test-only code: every function CHECK-fails on error instead of returning a status.
// Output is deterministic: the same pixels and arguments give the same bytes.

#ifndef FORGE_TESTDATA_IMAGE_WRITERS_H_
#define FORGE_TESTDATA_IMAGE_WRITERS_H_

#include <cstdint>
#include <string>

namespace forge::testdata {

// Pixels: row-major, interleaved, no row padding. CHECK-fails on error (test-only code).

// Returns a JFIF JPEG of `rgb` (width * height * 3 bytes) with 4:2:0 chroma subsampling at
// `quality` (1..100). With `progressive`, the file is progressive (SOF2) instead of
// baseline (SOF0).
std::string EncodeJpeg(const uint8_t* rgb, int width, int height, int quality,
                       bool progressive = false);

// Returns a single-component (grayscale) baseline JPEG of `gray` (width * height bytes).
std::string EncodeGrayJpeg(const uint8_t* gray, int width, int height, int quality);

// Converts `rgb` (width * height * 3 bytes) to CMYK and returns an Adobe-style CMYK JPEG, the
// kind ImageNet's 22 CMYK files are: 4 components, an APP14 "Adobe" marker with transform 0
// (no YCCK), no chroma subsampling, and values stored inverted as Photoshop writes them.
//
// The conversion is the simple model, per pixel, with integer rounding:
//   K = 255 - max(R, G, B)
//   C = (255 - R - K) * 255 / (255 - K), likewise M from G and Y from B; C = M = Y = 0 if K = 255
// and the stored (inverted) bytes are (255 - C, 255 - M, 255 - Y, 255 - K). A reader therefore
// recovers RGB from the stored bytes (c, m, y, k) as R = c * k / 255, G = m * k / 255,
// B = y * k / 255, up to rounding and JPEG loss.
std::string EncodeCmykJpeg(const uint8_t* rgb, int width, int height, int quality);

// Returns an 8-bit PNG of `pixels` (width * height * channels bytes): `channels` is 1 (gray),
// 3 (RGB) or 4 (RGBA). Lossless: decoding gives back the same pixels.
std::string EncodePng(const uint8_t* pixels, int width, int height, int channels);

}  // namespace forge::testdata

#endif  // FORGE_TESTDATA_IMAGE_WRITERS_H_
