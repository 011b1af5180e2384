// Per-sample image transforms of the input pipeline: torchvision's RandomResizedCrop +
// RandomHorizontalFlip (+ optional TrivialAugmentWide or RandAugment, + optional ColorJitter)
// for training, Resize + CenterCrop for evaluation, on PIL images. Training decodes only the
// part of the JPEG the crop needs, at the smallest fast DCT scale that still covers the output
// size (see DecodeRegion).
//
//   TrainTransformOptions options;  // 224 x 224, flip
//   std::vector<uint8_t> pixels(224 * 224 * 3);
//   absl::Status status = TrainTransform(jpeg_bytes, options, seed, pixels.data());
#ifndef FORGE_LIB_DATA_AUGMENT_H_
#define FORGE_LIB_DATA_AUGMENT_H_

#include <cstdint>
#include <random>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "lib/data/auto_augment.h"
#include "lib/image/decode.h"
#include "lib/image/image.h"

namespace forge {

struct TrainTransformOptions {
  int size = 224;  // The output is size x size.
  // The crop's area as a fraction of the image's, and its aspect ratio (width / height):
  // torchvision's defaults, scale=(0.08, 1.0), ratio=(3/4, 4/3).
  double min_scale = 0.08, max_scale = 1.0;
  double min_ratio = 3.0 / 4.0, max_ratio = 4.0 / 3.0;
  bool flip = true;  // Horizontal flip with probability 1/2.
  // TrivialAugmentWide or RandAugment after the flip, as torchvision's reference recipe
  // places it (policy kNone, the default: none). Validate with ValidateAutoAugmentOptions.
  AutoAugmentOptions auto_augment;
  // ColorJitter(brightness, contrast, saturation): each factor is drawn uniformly from
  // [max(0, 1 - j), 1 + j]; 0 (the default) leaves that property alone.
  double brightness = 0, contrast = 0, saturation = 0;
  // Decoding limits and the DCT scales a crop may be decoded at: by default those with SIMD
  // IDCTs (see kSimdRegionScales), so a crop that 6/8 would cover is decoded at 8/8.
  DecodeOptions decode = TrainDecodeOptions();

  static DecodeOptions TrainDecodeOptions() {
    DecodeOptions options;
    options.region_scales = kSimdRegionScales;
    return options;
  }
};

struct EvalTransformOptions {
  int size = 224;             // The output is size x size.
  double crop_ratio = 0.875;  // The shorter side is first resized to floor(size / crop_ratio),
  int resize_shorter = 0;     // or to this when > 0 (eval --resize_shorter).
  DecodeOptions decode;
};

// torchvision's RandomResizedCrop.get_params for a width x height image: up to 10 attempts of
// an area fraction uniform in [min_scale, max_scale] and an aspect ratio log-uniform in
// [min_ratio, max_ratio], sides rounded half to even; the first that fits is placed
// uniformly at random. If none fits, the fallback: the centred crop of the whole image,
// narrowed to the nearest ratio bound when the image's own ratio is outside them. The random
// numbers are ours (the same on every platform), not torch's.
ImageRegion SampleRandomResizedCrop(int width, int height, const TrainTransformOptions& options,
                                    std::mt19937_64& rng);

// The training transform of one image, all randomness drawn from `seed` in torchvision's
// order (crop, flip, then auto_augment's op, magnitude and sign draws, then ColorJitter's
// order of operations and factors; a disabled step draws nothing, so enabling one leaves the
// earlier steps' draws alone): writes size x size x 3 bytes (RGB, rows packed) to `out`. The
// crop is decoded with DecodeRegion at the smallest DCT scale k/8 in
// options.decode.region_scales that keeps it at least size x size; at k = 8 (crops no larger
// than about `size`, or images that small) the pixels are exactly torchvision's on a PIL
// image (crop, Pillow's bilinear resize, flip, TrivialAugmentWide / RandAugment's ops,
// ImageEnhance); at k < 8 they differ a little (see DecodeRegion). Fails with InvalidArgument
// when the image cannot be decoded, options.size breaks CheckImageSize (lib/image/resize.h)
// or options.auto_augment fails ValidateAutoAugmentOptions. Every buffer it allocates is
// bounded by the crop, which lies inside the image the decoder accepted, and by size x size.
absl::Status TrainTransform(absl::string_view encoded, const TrainTransformOptions& options,
                            uint64_t seed, uint8_t* out);

// torchvision's Resize(floor(size / crop_ratio)) + CenterCrop(size) on the decoded image,
// Pillow-exact: writes size x size x 3 bytes to `out`. Fails with InvalidArgument when the
// image cannot be decoded, or when the resize would break lib/image's size bounds (an extreme
// aspect ratio, e.g. 20000 x 2 resized to shorter side 256; see ShorterSideSize), checked from
// the header before decoding.
absl::Status EvalTransform(absl::string_view encoded, const EvalTransformOptions& options,
                           uint8_t* out);

// Applies, in this order, torchvision's adjust_brightness, adjust_contrast and
// adjust_saturation on a PIL image, i.e. Pillow's ImageEnhance, to `image` in place:
// AdjustBrightness, AdjustContrast and AdjustSaturation (lib/data/auto_augment.h). Each is
// Pillow's blend out = d + f * (v - d) in float, truncated and clipped to [0, 255], of every
// sample v with a degenerate d: 0 for brightness; for contrast the mean over the image of
// the luma L = (19595 R + 38470 G + 7471 B + 2^15) >> 16, rounded half up; for saturation
// the pixel's own L. A factor of exactly 1 leaves the image unchanged.
void JitterColors(double brightness, double contrast, double saturation, Image* image);

}  // namespace forge

#endif  // FORGE_LIB_DATA_AUGMENT_H_
