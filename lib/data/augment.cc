// torchvision's training and evaluation transforms on top of lib/image's decoding and
// Pillow-exact resizing.
#include "lib/data/augment.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "lib/data/auto_augment.h"
#include "lib/data/random.h"
#include "lib/image/decode.h"
#include "lib/image/image.h"
#include "lib/image/resize.h"

namespace forge {
namespace {

// A decoded crop buffer larger than this is not kept for the thread's next sample.
constexpr size_t kKeptRegionBytes = size_t{32} << 20;

// torchvision tries this many random crops before falling back to the centre.
constexpr int kCropAttempts = 10;

// Uniform in [low, high), from the top 53 bits of one draw.
double Uniform(std::mt19937_64& rng, double low, double high) {
  return low + (high - low) * (static_cast<double>(rng() >> 11) * 0x1.0p-53);
}

// Python's round(): halves to even (the default rounding mode).
int RoundHalfEven(double value) { return static_cast<int>(std::nearbyint(value)); }

// ColorJitter's factor for strength j: uniform in [max(0, 1 - j), 1 + j].
double JitterFactor(std::mt19937_64& rng, double j) {
  return Uniform(rng, std::max(0.0, 1.0 - j), 1.0 + j);
}

}  // namespace

ImageRegion SampleRandomResizedCrop(int width, int height, const TrainTransformOptions& options,
                                    std::mt19937_64& rng) {
  const double area = static_cast<double>(width) * height;
  const double log_min = std::log(options.min_ratio), log_max = std::log(options.max_ratio);
  for (int attempt = 0; attempt < kCropAttempts; ++attempt) {
    const double target_area = area * Uniform(rng, options.min_scale, options.max_scale);
    const double aspect = std::exp(Uniform(rng, log_min, log_max));
    const int w = RoundHalfEven(std::sqrt(target_area * aspect));
    const int h = RoundHalfEven(std::sqrt(target_area / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      // torchvision draws the row first.
      const int y = static_cast<int>(UniformBelow(rng, static_cast<uint64_t>(height - h + 1)));
      const int x = static_cast<int>(UniformBelow(rng, static_cast<uint64_t>(width - w + 1)));
      return {x, y, w, h};
    }
  }
  const double ratio = static_cast<double>(width) / height;
  int w = width, h = height;
  if (ratio < std::min(options.min_ratio, options.max_ratio)) {
    h = RoundHalfEven(w / std::min(options.min_ratio, options.max_ratio));
  } else if (ratio > std::max(options.min_ratio, options.max_ratio)) {
    w = RoundHalfEven(h * std::max(options.min_ratio, options.max_ratio));
  }
  return {(width - w) / 2, (height - h) / 2, w, h};
}

void JitterColors(double brightness, double contrast, double saturation, Image* image) {
  AdjustBrightness(brightness, image);
  AdjustContrast(contrast, image);
  AdjustSaturation(saturation, image);
}

absl::Status TrainTransform(absl::string_view encoded, const TrainTransformOptions& options,
                            uint64_t seed, uint8_t* out) {
  if (absl::Status status = CheckImageSize(options.size, options.size); !status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid training crop size ", options.size, ": ", status.message()));
  }
  if (absl::Status status = ValidateAutoAugmentOptions(options.auto_augment); !status.ok()) {
    return status;
  }
  absl::StatusOr<ImageHeader> header = ReadImageHeader(encoded);
  if (!header.ok()) return header.status();
  std::mt19937_64 rng(seed);
  const ImageRegion box = SampleRandomResizedCrop(header->width, header->height, options, rng);
  // Reused by the thread's next sample: no allocation (and no page faults) per sample. An
  // outsized one (say a panorama decoded at 8/8) is released, not kept for good.
  thread_local Image region;
  struct Release {
    ~Release() {
      if (region.pixels.capacity() > kKeptRegionBytes) region = Image();
    }
  } release;
  if (absl::Status status =
          DecodeRegion(encoded, box, options.size, options.size, options.decode, &region);
      !status.ok()) {
    return status;
  }
  const bool flip = options.flip && (rng() >> 63) != 0;
  const bool auto_augment = options.auto_augment.policy != AutoAugmentOptions::Policy::kNone;
  const bool jitter = options.brightness > 0 || options.contrast > 0 || options.saturation > 0;
  if (!auto_augment && !jitter) {
    // Straight into the output, mirrored by the resize itself.
    ResizeInto(region, options.size, options.size, flip, out);
    return absl::OkStatus();
  }
  // Reused by the thread's next sample, as `region` is (the ops swap their result buffers
  // in, all of this size), and released as it is when outsized.
  thread_local Image resized;
  struct ReleaseResized {
    ~ReleaseResized() {
      if (resized.pixels.capacity() > kKeptRegionBytes) resized = Image();
    }
  } release_resized;
  resized.width = resized.height = options.size;
  resized.pixels.resize(static_cast<size_t>(options.size) * options.size * 3);
  ResizeInto(region, options.size, options.size, flip, resized.pixels.data());
  // The policy sees the flipped crop, as torchvision's TrivialAugmentWide follows
  // RandomHorizontalFlip.
  AutoAugment(options.auto_augment, rng, &resized);
  if (jitter) {
    // ColorJitter.get_params: a random order of the operations, then the factors of those
    // enabled; they are applied one at a time in that order. (Per pixel, or with a mean over
    // the whole image: the flip before them changes nothing.)
    int order[3] = {0, 1, 2};
    for (int i = 2; i > 0; --i) std::swap(order[i], order[UniformBelow(rng, i + 1)]);
    double factors[3] = {1.0, 1.0, 1.0};
    const double strengths[3] = {options.brightness, options.contrast, options.saturation};
    for (int i = 0; i < 3; ++i) {
      if (strengths[i] > 0) factors[i] = JitterFactor(rng, strengths[i]);
    }
    for (const int op : order) {
      JitterColors(op == 0 ? factors[0] : 1.0, op == 1 ? factors[1] : 1.0,
                   op == 2 ? factors[2] : 1.0, &resized);
    }
  }
  std::memcpy(out, resized.pixels.data(), resized.pixels.size());
  return absl::OkStatus();
}

absl::Status EvalTransform(absl::string_view encoded, const EvalTransformOptions& options,
                           uint8_t* out) {
  if (absl::Status status = CheckImageSize(options.size, options.size); !status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid evaluation crop size ", options.size, ": ", status.message()));
  }
  const int shorter = options.resize_shorter > 0
                          ? options.resize_shorter
                          : static_cast<int>(std::floor(options.size / options.crop_ratio));
  // The resized size from the header first: an image whose resize would break the bounds is
  // refused before its pixels are decoded.
  absl::StatusOr<ImageHeader> header = ReadImageHeader(encoded);
  if (!header.ok()) return header.status();
  if (absl::StatusOr<std::pair<int, int>> size =
          ShorterSideSize(header->width, header->height, shorter);
      !size.ok()) {
    return size.status();
  }
  absl::StatusOr<Image> image = DecodeImage(encoded, options.decode);
  if (!image.ok()) return image.status();
  absl::StatusOr<Image> resized = ResizeShorterSide(*image, shorter);
  if (!resized.ok()) return resized.status();
  const Image cropped = CenterCrop(*resized, options.size, options.size);
  std::memcpy(out, cropped.pixels.data(), cropped.pixels.size());
  return absl::OkStatus();
}

}  // namespace forge
