// torchvision 0.26's TrivialAugmentWide and RandAugment as they run on a PIL image (their
// defaults: NEAREST interpolation, fill 0), on forge::Image, pixel for pixel: each of the 14
// operations is Pillow's (Image.transform AFFINE and Image.rotate with nearest-neighbour
// sampling, ImageEnhance, ImageOps), and the magnitude tables are torchvision's float32 ones.
// Only the random numbers are ours (std::mt19937_64, the same on every platform), not torch's.
//
//   AutoAugmentOptions options;
//   options.policy = AutoAugmentOptions::Policy::kTrivialAugmentWide;
//   std::mt19937_64 rng(seed);
//   AutoAugment(options, rng, &image);  // One op at a random magnitude and sign, in place.
#ifndef FORGE_LIB_DATA_AUTO_AUGMENT_H_
#define FORGE_LIB_DATA_AUTO_AUGMENT_H_

#include <random>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/image/image.h"

namespace forge {

struct AutoAugmentOptions {
  enum class Policy {
    kNone,                // No augmentation, and no random numbers drawn.
    kTrivialAugmentWide,  // torchvision.transforms.TrivialAugmentWide(num_magnitude_bins)
    kRandAugment,         // RandAugment(num_ops, magnitude, num_magnitude_bins)
  };
  Policy policy = Policy::kNone;
  int num_ops = 2;    // RandAugment: operations applied one after the other, >= 0.
  int magnitude = 9;  // RandAugment: the bin of every op's table, in [0, num_magnitude_bins).
  int num_magnitude_bins = 31;  // Both policies: entries of each magnitude table, >= 2.
};

// OK when the options are usable (policy kNone always is); otherwise InvalidArgumentError
// naming the field and its allowed range.
absl::Status ValidateAutoAugmentOptions(const AutoAugmentOptions& options);

// The policy's name in configuration: "none", "trivial_augment_wide", "rand_augment".
absl::string_view AutoAugmentPolicyName(AutoAugmentOptions::Policy policy);
// The policy of one of those names; InvalidArgumentError listing them for any other.
absl::StatusOr<AutoAugmentOptions::Policy> ParseAutoAugmentPolicy(absl::string_view name);

// The operations in the order of torchvision's _augmentation_space (a policy draws an index
// into this order).
enum class AugmentOp {
  kIdentity,
  kShearX,
  kShearY,
  kTranslateX,
  kTranslateY,
  kRotate,
  kBrightness,
  kColor,
  kContrast,
  kSharpness,
  kPosterize,
  kSolarize,
  kAutoContrast,
  kEqualize,
};
inline constexpr int kNumAugmentOps = 14;

// torchvision's name of the op ("ShearX", ...).
absl::string_view AugmentOpName(AugmentOp op);

// One op at `magnitude` (signed, as a policy passes it to torchvision's _apply_op), applied in
// place:
//   Identity                  nothing;
//   ShearX / ShearY           shear about the top-left corner: output pixel (x, y) takes the
//                             input's pixel nearest (x + m y, y), resp. (x, y + m x), through
//                             torchvision's F.affine matrix with shear = degrees(atan(m));
//   TranslateX / TranslateY   shift right / down by int(m) pixels (truncated toward 0);
//   Rotate                    m degrees counter-clockwise about the centre (w / 2, h / 2);
//   Brightness, Color,        ImageEnhance.Brightness / Color / Contrast / Sharpness with
//   Contrast, Sharpness         factor 1 + m;
//   Posterize                 keep the top int(m) bits of every sample, int(m) in [1, 8];
//   Solarize                  v -> 255 - v for samples v >= m;
//   AutoContrast, Equalize    ImageOps.autocontrast() / equalize(), per channel; m unused.
// The geometric ops sample nearest neighbours exactly as Pillow does (16.16 fixed point where
// its coordinates fit, else its double-precision loop, its fast paths for 90/180/270 degree
// turns) and fill what comes from outside the image with black. The pixels equal torchvision's
// on a PIL image bit for bit (checked against goldens of every op on odd sizes).
// CHECK-fails when `magnitude` is not finite, when Posterize's bits leave [1, 8] (Pillow
// raises), or when `image` is inconsistent (pixels.size() != width * height * 3). An empty
// image is left alone.
void ApplyAugmentOp(AugmentOp op, double magnitude, Image* image);

// The table of magnitudes `policy` (kTrivialAugmentWide or kRandAugment) uses for `op` with
// `num_bins` bins on a width x height image, as torchvision's _augmentation_space builds it:
// torch.linspace in float32 (computed as torch's AVX2/AVX-512 CPU kernels do, with a fused
// multiply-add), Posterize's 8 - round(i / ((num_bins - 1) / k)) with k = 6 (TA-Wide) or 4
// (RandAugment), halves to even. Empty for Identity, AutoContrast and Equalize (no
// magnitude). CHECK-fails for kNone or num_bins < 2.
std::vector<double> AugmentMagnitudes(AutoAugmentOptions::Policy policy, AugmentOp op, int num_bins,
                                      int width, int height);
// Whether the policies negate op's magnitude with probability 1/2 (the same in both).
bool IsSignedAugmentOp(AugmentOp op);

// One drawn operation: what AutoAugment applies.
struct AugmentDraw {
  AugmentOp op = AugmentOp::kIdentity;
  double magnitude = 0;
};

// The policy's random choices for a width x height image, drawn from `rng` in torchvision's
// order: TrivialAugmentWide draws the op (uniform over the 14), then, if the op has a table,
// its bin (uniform), then, if it is signed, the sign (1/2); RandAugment draws num_ops times
// the op and, if signed, the sign, at the fixed bin `magnitude`. Nothing is drawn for kNone
// (an empty list). CHECK-fails unless ValidateAutoAugmentOptions(options) is OK.
std::vector<AugmentDraw> DrawAutoAugment(const AutoAugmentOptions& options, int width, int height,
                                         std::mt19937_64& rng);

// DrawAutoAugment for the image's size, then ApplyAugmentOp of every draw in order.
void AutoAugment(const AutoAugmentOptions& options, std::mt19937_64& rng, Image* image);

// Pillow's ImageEnhance, as torchvision's adjust_brightness, adjust_saturation,
// adjust_contrast and adjust_sharpness run it on a PIL image, in place. Each blends every
// sample v with a degenerate image's sample d: out = d + f * (v - d) in float (f = (float)
// factor), truncated and clipped to [0, 255]. The degenerate image is: black (Brightness); the
// pixel's luma L = (19595 R + 38470 G + 7471 B + 2^15) >> 16 (Color); the mean of L over the
// image, rounded half up (Contrast); the image smoothed by the 3x3 kernel [1 1 1; 1 5 1;
// 1 1 1] / 13 in float, its one-pixel border kept as it is (Sharpness; images narrower or
// lower than 3 pixels are left alone). A factor of exactly 1 leaves the image unchanged.
void AdjustBrightness(double factor, Image* image);
void AdjustSaturation(double factor, Image* image);
void AdjustContrast(double factor, Image* image);
void AdjustSharpness(double factor, Image* image);

}  // namespace forge

#endif  // FORGE_LIB_DATA_AUTO_AUGMENT_H_
