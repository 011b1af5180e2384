// TrivialAugmentWide and RandAugment: the magnitude tables and draws of torchvision's
// autoaugment.py, and its 14 operations as Pillow 13 computes them on an RGB image. Every
// floating-point expression keeps the operand order and precision (float or double) of the
// Pillow / torchvision / Python code it reproduces, and the library is built with
// -ffp-contract=off so that no multiply-add is fused where theirs are not: the results depend
// on every rounding. Where a faster formula is used instead (Sharpness's smoothing in
// integers, Posterize and Solarize without their look-up tables, whole-row copies), the
// comment there says why it gives the same bytes.
#include "lib/data/auto_augment.h"

#include <glog/logging.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "lib/data/random.h"
#include "lib/image/image.h"

namespace forge {
namespace {

using Policy = AutoAugmentOptions::Policy;

// Python's math.radians / math.degrees factors (CPython's degToRad and radToDeg).
constexpr double kDegToRad = M_PI / 180.0;
constexpr double kRadToDeg = 180.0 / M_PI;

// For the functions whose loops vectorise: GCC compiles them twice, for AVX2 and for the
// baseline (SSE2), and runs the AVX2 copy on CPUs that have it. Both do the same float
// operations (no FMA), so the results do not depend on the CPU.
// Not under ThreadSanitizer: the clones' resolver runs while the dynamic linker relocates this
// library, before TSan's runtime is up, and TSan's instrumentation of it crashes the process.
#if defined(__SANITIZE_THREAD__)
#define FORGE_AVX2_CLONES
#else
#define FORGE_AVX2_CLONES __attribute__((target_clones("avx2", "default")))
#endif

// A scratch buffer kept per thread larger than this is released after use.
constexpr size_t kKeptScratchBytes = size_t{32} << 20;

// Per-thread scratch pixels for the ops that cannot work in place: their output is built here
// and then swapped into the image, so a training thread allocates nothing per sample.
std::vector<uint8_t>& ScratchPixels() {
  thread_local std::vector<uint8_t> scratch;
  return scratch;
}

// Swaps `out` (the scratch buffer, now holding the result) into `image`, and releases the
// buffer the scratch is left with if it is outsized.
void TakeResult(std::vector<uint8_t>& out, Image* image) {
  image->pixels.swap(out);
  if (out.capacity() > kKeptScratchBytes) std::vector<uint8_t>().swap(out);
}

// ---------------------------------------------------------------------------------------
// Magnitude tables

// torch.linspace(start, end, steps)[index] in float32 as torch's vectorised CPU kernels
// (AVX2, AVX-512) compute it: the first half counted up from start, the second down from end,
// each as one fused multiply-add (torch's portable kernel rounds the product first and can
// differ in the last bit).
float Linspace(float start, float end, int steps, int index) {
  const float step = (end - start) / static_cast<float>(steps - 1);
  if (index < steps / 2) return std::fma(step, static_cast<float>(index), start);
  return std::fma(-step, static_cast<float>(steps - index - 1), end);
}

// Entry `index` of op's table (Identity, AutoContrast and Equalize have none: 0).
double TableEntry(Policy policy, AugmentOp op, int num_bins, int index, int width, int height) {
  const bool wide = policy == Policy::kTrivialAugmentWide;
  // torchvision passes Python floats, which torch rounds to float32.
  const auto up_to = [&](double end) {
    return static_cast<double>(Linspace(0.0f, static_cast<float>(end), num_bins, index));
  };
  switch (op) {
    case AugmentOp::kIdentity:
    case AugmentOp::kAutoContrast:
    case AugmentOp::kEqualize:
      return 0.0;
    case AugmentOp::kShearX:
    case AugmentOp::kShearY:
      return up_to(wide ? 0.99 : 0.3);
    case AugmentOp::kTranslateX:
      return up_to(wide ? 32.0 : 150.0 / 331.0 * width);
    case AugmentOp::kTranslateY:
      return up_to(wide ? 32.0 : 150.0 / 331.0 * height);
    case AugmentOp::kRotate:
      return up_to(wide ? 135.0 : 30.0);
    case AugmentOp::kBrightness:
    case AugmentOp::kColor:
    case AugmentOp::kContrast:
    case AugmentOp::kSharpness:
      return up_to(wide ? 0.99 : 0.9);
    case AugmentOp::kPosterize: {
      // 8 - (arange(num_bins) / ((num_bins - 1) / k)).round().int(): a float32 division,
      // rounded half to even.
      const float divisor = static_cast<float>((num_bins - 1) / (wide ? 6.0 : 4.0));
      return 8.0 - std::nearbyint(static_cast<float>(index) / divisor);
    }
    case AugmentOp::kSolarize:
      return static_cast<double>(Linspace(255.0f, 0.0f, num_bins, index));
  }
  LOG(FATAL) << "unknown AugmentOp " << static_cast<int>(op);
}

bool HasTable(AugmentOp op) {
  return op != AugmentOp::kIdentity && op != AugmentOp::kAutoContrast && op != AugmentOp::kEqualize;
}

// ---------------------------------------------------------------------------------------
// Geometry: Pillow's Image.transform(size, AFFINE, matrix, NEAREST) into an image of the same
// size, and Image.rotate.

// Pillow's COORD(v): the pixel index holding coordinate v, -1 for any negative v. Values at
// or past `limit` (outside the image either way) are returned as `limit`, so that no
// conversion overflows.
inline int Coord(double v, int limit) {
  if (v < 0.0) return -1;
  if (v >= limit) return limit;
  return static_cast<int>(v);
}

inline void CopyPixel(const Image& in, int x, int y, uint8_t* out) {
  std::memcpy(out, in.Row(y) + static_cast<size_t>(x) * 3, 3);
}

// Pillow's ImagingScaleAffine, taken when a[1] == a[3] == 0 (translations, identity): the
// source column of every output column and the source row of every output row are tabulated
// by stepping a double from the first pixel's centre. `out` is zero-filled and in's size.
void ScaleAffine(const Image& in, const double a[6], Image* out) {
  std::vector<int> source_x(out->width, 0);
  int x_begin = out->width, x_end = 0;
  double xo = a[2] + a[0] * 0.5;
  for (int x = 0; x < out->width; ++x) {
    const int xi = Coord(xo, in.width);
    if (xi >= 0 && xi < in.width) {
      x_end = x + 1;
      x_begin = std::min(x_begin, x);
      source_x[x] = xi;
    }
    xo += a[0];
  }
  // Whether the columns are a run of consecutive source columns (always for a[0] == 1, the
  // translations): then rows are copied with memcpy.
  bool consecutive = true;
  for (int x = x_begin; x + 1 < x_end; ++x) consecutive &= source_x[x + 1] == source_x[x] + 1;
  double yo = a[5] + a[4] * 0.5;
  for (int y = 0; y < out->height; ++y) {
    const int yi = Coord(yo, in.height);
    if (yi >= 0 && yi < in.height && x_begin < x_end) {
      uint8_t* row = out->Row(y);
      if (consecutive) {
        std::memcpy(row + 3 * x_begin, in.Row(yi) + size_t{3} * source_x[x_begin],
                    size_t{3} * (x_end - x_begin));
      } else {
        for (int x = x_begin; x < x_end; ++x) CopyPixel(in, source_x[x], yi, row + 3 * x);
      }
    }
    yo += a[4];
  }
}

// Whether the matrix maps (x, y) inside the range of Pillow's 16.16 fixed point.
inline bool FitsFixedPoint(const double a[6], int x, int y) {
  return std::fabs(x * a[0] + y * a[1] + a[2]) < 32768.0 &&
         std::fabs(x * a[3] + y * a[4] + a[5]) < 32768.0;
}

// Pillow's FIX(v): v in 16.16 fixed point, rounded half up (FLOOR(v * 65536 + 0.5)).
inline int64_t Fix(double v) {
  const double t = v * 65536.0 + 0.5;
  return t < 0.0 ? static_cast<int64_t>(std::floor(t)) : static_cast<int64_t>(t);
}

// floor(a / b) and ceil(a / b) for b != 0.
inline int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
inline int64_t CeilDiv(int64_t a, int64_t b) { return -FloorDiv(-a, b); }

// Narrows [*begin, *end) to the x with 0 <= (start + x * step) >> 16 < size: as the value is
// linear in x, those x form one interval.
void ClampToSource(int64_t start, int64_t step, int size, int64_t* begin, int64_t* end) {
  const int64_t low = 0, high = (int64_t{size} << 16) - 1;  // Bounds on the 16.16 value.
  if (step == 0) {
    if (start < low || start > high) *end = *begin;
    return;
  }
  int64_t first, last;  // The x range solving low <= start + x * step <= high.
  if (step > 0) {
    first = CeilDiv(low - start, step);
    last = FloorDiv(high - start, step);
  } else {
    first = CeilDiv(high - start, step);
    last = FloorDiv(low - start, step);
  }
  *begin = std::max(*begin, first);
  *end = std::min(*end, last + 1);
}

// Pillow's affine_fixed: the source of output pixel (x, y) is the matrix applied to the pixel
// centre (x + 0.5, y + 0.5), in 16.16 fixed point with the centre offsets folded into the
// constant terms, floored by an arithmetic shift; pixels whose source lies outside keep the
// fill. Pillow tests every pixel; here each row's run of inside pixels is worked out first
// (the same pixels), and a run of consecutive source pixels in one row (a shear along x) is
// copied with memcpy. Pillow accumulates in 32-bit ints; within FitsFixedPoint these 64-bit
// values are the same.
void AffineFixed(const Image& in, const double a[6], Image* out) {
  static_assert((int64_t{-1} >> 1) == -1, "needs an arithmetic right shift");
  const int64_t a0 = Fix(a[0]), a1 = Fix(a[1]), a3 = Fix(a[3]), a4 = Fix(a[4]);
  int64_t row_x = Fix(a[2] + a[0] * 0.5 + a[1] * 0.5);
  int64_t row_y = Fix(a[5] + a[3] * 0.5 + a[4] * 0.5);
  const bool row_copies = a0 == 65536 && a3 == 0;
  for (int y = 0; y < out->height; ++y, row_x += a1, row_y += a4) {
    int64_t begin = 0, end = out->width;
    ClampToSource(row_x, a0, in.width, &begin, &end);
    ClampToSource(row_y, a3, in.height, &begin, &end);
    if (begin >= end) continue;
    uint8_t* row = out->Row(y) + 3 * begin;
    int64_t xx = row_x + begin * a0, yy = row_y + begin * a3;
    if (row_copies) {
      std::memcpy(row, in.Row(static_cast<int>(yy >> 16)) + 3 * (xx >> 16), 3 * (end - begin));
      continue;
    }
    for (int64_t x = begin; x < end; ++x, xx += a0, yy += a3, row += 3) {
      CopyPixel(in, static_cast<int>(xx >> 16), static_cast<int>(yy >> 16), row);
    }
  }
}

// Pillow's floating-point affine loop, for matrices beyond the fixed point's range: doubles
// stepped from the first pixel's centre.
void AffineFloat(const Image& in, const double a[6], Image* out) {
  double xo = a[2] + a[1] * 0.5 + a[0] * 0.5;
  double yo = a[5] + a[4] * 0.5 + a[3] * 0.5;
  for (int y = 0; y < out->height; ++y, xo += a[1], yo += a[4]) {
    uint8_t* row = out->Row(y);
    double xx = xo, yy = yo;
    for (int x = 0; x < out->width; ++x, xx += a[0], yy += a[3]) {
      const int xi = Coord(xx, in.width);
      if (xi < 0 || xi >= in.width) continue;
      const int yi = Coord(yy, in.height);
      if (yi >= 0 && yi < in.height) CopyPixel(in, xi, yi, row + 3 * x);
    }
  }
}

// Image.transform(image.size, AFFINE, a, NEAREST, fillcolor=0) in place: output pixel (x, y)
// is the input's nearest pixel to a * (x + 0.5, y + 0.5, 1), black where that lies outside.
// Pillow's ImagingTransformAffine picks one of three loops, which round differently.
void TransformAffine(const double a[6], Image* image) {
  std::vector<uint8_t>& scratch = ScratchPixels();
  scratch.assign(image->pixels.size(), 0);
  Image out;
  out.width = image->width;
  out.height = image->height;
  out.pixels.swap(scratch);
  const int w = image->width, h = image->height;
  if (a[1] == 0 && a[3] == 0) {
    ScaleAffine(*image, a, &out);
  } else if (FitsFixedPoint(a, 0, 0) && FitsFixedPoint(a, w, h) && FitsFixedPoint(a, 0, h) &&
             FitsFixedPoint(a, w, 0)) {
    AffineFixed(*image, a, &out);
  } else {
    AffineFloat(*image, a, &out);
  }
  out.pixels.swap(scratch);
  TakeResult(scratch, image);
}

// torchvision's _get_inverse_affine_matrix(center, angle, translate, scale=1, shear): the
// matrix Pillow's transform takes (output to input) for the affine map
// T * C * R(angle) * Shear_y * Shear_x * C^-1, term for term as torchvision computes it.
std::array<double, 6> InverseAffineMatrix(double cx, double cy, double angle, double tx, double ty,
                                          double shear_x, double shear_y) {
  const double rot = angle * kDegToRad;
  const double sx = shear_x * kDegToRad;
  const double sy = shear_y * kDegToRad;
  const double a = std::cos(rot - sy) / std::cos(sy);
  const double b = -std::cos(rot - sy) * std::tan(sx) / std::cos(sy) - std::sin(rot);
  const double c = std::sin(rot - sy) / std::cos(sy);
  const double d = -std::sin(rot - sy) * std::tan(sx) / std::cos(sy) + std::cos(rot);
  // [d, -b, 0, -c, a, 0] / scale (1), then the centre and translation terms.
  std::array<double, 6> m = {d, -b, 0.0, -c, a, 0.0};
  m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
  m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
  m[2] += cx;
  m[5] += cy;
  return m;
}

// _apply_op's ShearX / ShearY: F.affine with shear degrees(atan(m)) about the top-left corner.
void Shear(bool horizontal, double magnitude, Image* image) {
  const double degrees = std::atan(magnitude) * kRadToDeg;
  const std::array<double, 6> m = InverseAffineMatrix(
      0.0, 0.0, 0.0, 0.0, 0.0, horizontal ? degrees : 0.0, horizontal ? 0.0 : degrees);
  TransformAffine(m.data(), image);
}

// _apply_op's TranslateX / TranslateY: F.affine with translate [int(m), 0] or [0, int(m)]
// about the centre (w * 0.5, h * 0.5).
void Translate(bool horizontal, double magnitude, Image* image) {
  const double shift = std::trunc(magnitude);  // Python's int(), kept as a double.
  const std::array<double, 6> m =
      InverseAffineMatrix(image->width * 0.5, image->height * 0.5, 0.0, horizontal ? shift : 0.0,
                          horizontal ? 0.0 : shift, 0.0, 0.0);
  TransformAffine(m.data(), image);
}

// Python's float x % y for y > 0: the result in [0, y).
double PythonMod(double x, double y) {
  double mod = std::fmod(x, y);
  if (mod != 0.0) {
    if ((y < 0) != (mod < 0)) mod += y;
  } else {
    mod = std::copysign(0.0, y);
  }
  return mod;
}

// Python's round(value, 15): the decimal with 15 places nearest to value's exact binary value
// (ties to even), read back as the nearest double. std::to_chars and std::from_chars are both
// exact (and locale-independent), as are Python's dtoa and strtod.
double RoundTo15Places(double value) {
  char buffer[64];
  const std::to_chars_result printed =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::fixed, 15);
  CHECK(printed.ec == std::errc()) << value;
  double rounded = 0;
  const std::from_chars_result read = std::from_chars(buffer, printed.ptr, rounded);
  CHECK(read.ec == std::errc() && read.ptr == printed.ptr) << std::string(buffer, printed.ptr);
  return rounded;
}

// Image.transpose(ROTATE_90 / ROTATE_180 / ROTATE_270): exact quarter turns, counter-clockwise.
// ROTATE_90 and ROTATE_270 are only taken for square images (rotate() without expand keeps the
// size), so the output has the input's size in every case.
void QuarterTurns(int turns, Image* image) {
  const int w = image->width, h = image->height;
  std::vector<uint8_t>& scratch = ScratchPixels();
  scratch.resize(image->pixels.size());
  Image out;
  out.width = w;
  out.height = h;
  out.pixels.swap(scratch);
  for (int y = 0; y < h; ++y) {
    uint8_t* row = out.Row(y);
    for (int x = 0; x < w; ++x) {
      // The source of output pixel (x, y).
      int sx = x, sy = y;
      if (turns == 1) {
        sx = w - 1 - y;
        sy = x;
      } else if (turns == 2) {
        sx = w - 1 - x;
        sy = h - 1 - y;
      } else {
        sx = y;
        sy = h - 1 - x;
      }
      CopyPixel(*image, sx, sy, row + 3 * x);
    }
  }
  out.pixels.swap(scratch);
  TakeResult(scratch, image);
}

// F.rotate(image, m) on a PIL image: Image.rotate(m, NEAREST, expand=False, fillcolor=0).
void Rotate(double degrees, Image* image) {
  const double angle = PythonMod(degrees, 360.0);
  const int w = image->width, h = image->height;
  // Pillow's fast paths (no centre or translation given).
  if (angle == 0) return;
  if (angle == 180) return QuarterTurns(2, image);
  if ((angle == 90 || angle == 270) && w == h) return QuarterTurns(angle == 90 ? 1 : 3, image);
  // The inverse rotation about (w / 2, h / 2), its terms rounded to 15 decimal places.
  const double theta = -(angle * kDegToRad);
  std::array<double, 6> m = {
      RoundTo15Places(std::cos(theta)),  RoundTo15Places(std::sin(theta)), 0.0,
      RoundTo15Places(-std::sin(theta)), RoundTo15Places(std::cos(theta)), 0.0};
  const double cx = w / 2.0, cy = h / 2.0;
  const double x = -cx, y = -cy;
  const double m2 = m[0] * x + m[1] * y + m[2];
  const double m5 = m[3] * x + m[4] * y + m[5];
  m[2] = m2 + cx;
  m[5] = m5 + cy;
  TransformAffine(m.data(), image);
}

// ---------------------------------------------------------------------------------------
// Colour

// Pillow's ImagingBlend for one sample: d + alpha * (v - d) in float, clipped to [0, 255],
// truncated. Without branches, so that loops of it vectorise (into the same float operations).
inline uint8_t Blend(int degenerate, int value, float alpha) {
  float t = static_cast<float>(degenerate) + alpha * static_cast<float>(value - degenerate);
  t = std::min(std::max(t, 0.0f), 255.0f);
  return static_cast<uint8_t>(static_cast<int>(t));
}

// Every sample v becomes Blend(degenerate, v, alpha).
FORGE_AVX2_CLONES void BlendAll(int degenerate, float alpha, Image* image) {
  for (uint8_t& v : image->pixels) v = Blend(degenerate, v, alpha);
}

// Pillow's RGB -> L.
inline int Luma(const uint8_t* rgb) {
  return (rgb[0] * 19595 + rgb[1] * 38470 + rgb[2] * 7471 + 0x8000) >> 16;
}

// Every sample v of channel c becomes lut[c][v].
void ApplyLut(const std::array<std::array<uint8_t, 256>, 3>& lut, Image* image) {
  std::vector<uint8_t>& p = image->pixels;
  for (size_t i = 0; i + 2 < p.size(); i += 3) {
    p[i] = lut[0][p[i]];
    p[i + 1] = lut[1][p[i + 1]];
    p[i + 2] = lut[2][p[i + 2]];
  }
}

// Per channel: the number of samples of each value.
std::array<std::array<int64_t, 256>, 3> Histograms(const Image& image) {
  std::array<std::array<int64_t, 256>, 3> histograms{};
  const std::vector<uint8_t>& p = image.pixels;
  for (size_t i = 0; i + 2 < p.size(); i += 3) {
    ++histograms[0][p[i]];
    ++histograms[1][p[i + 1]];
    ++histograms[2][p[i + 2]];
  }
  return histograms;
}

// ImageOps.posterize(image, bits): its look-up table is i & mask.
FORGE_AVX2_CLONES void Posterize(int bits, Image* image) {
  CHECK(bits >= 1 && bits <= 8) << "Posterize needs bits in [1, 8], got " << bits;
  const uint8_t mask = static_cast<uint8_t>(~((1 << (8 - bits)) - 1));
  for (uint8_t& v : image->pixels) v &= mask;
}

// ImageOps.solarize(image, threshold): its look-up table keeps i < threshold (an int compared
// with a float) and maps the rest to 255 - i. For an integer i, i < threshold exactly when
// i < ceil(threshold).
FORGE_AVX2_CLONES void Solarize(double threshold, Image* image) {
  const double limit = std::ceil(threshold);
  if (limit > 255) return;
  const uint8_t keep_below = static_cast<uint8_t>(std::max(limit, 0.0));
  for (uint8_t& v : image->pixels) v = v < keep_below ? v : static_cast<uint8_t>(255 - v);
}

// ImageOps.autocontrast(image) (no cutoff): each channel's lowest and highest values present
// are stretched to 0 and 255, lut(v) = int(v * scale + offset) in double, clipped; a channel
// with a single value is kept.
void AutoContrast(Image* image) {
  const std::array<std::array<int64_t, 256>, 3> histograms = Histograms(*image);
  std::array<std::array<uint8_t, 256>, 3> lut;
  for (int c = 0; c < 3; ++c) {
    const std::array<int64_t, 256>& h = histograms[c];
    int lo = 0, hi = 255;
    while (lo < 255 && h[lo] == 0) ++lo;
    while (hi > 0 && h[hi] == 0) --hi;
    for (int i = 0; i < 256; ++i) lut[c][i] = static_cast<uint8_t>(i);
    if (hi <= lo) continue;
    const double scale = 255.0 / (hi - lo);
    const double offset = -lo * scale;
    for (int i = 0; i < 256; ++i) {
      // int() truncates toward zero; the clip makes that floor-or-zero.
      const double v = i * scale + offset;
      lut[c][i] = static_cast<uint8_t>(v <= 0.0 ? 0 : v >= 255.0 ? 255 : static_cast<int>(v));
    }
  }
  ApplyLut(lut, image);
}

// ImageOps.equalize(image): per channel, with the counts of the values present, step =
// (their sum - the last one's) // 255 and lut(i) = (step // 2 + count below i) // step,
// clipped to 255 as Image.point clips (it can reach 256); a channel with one value present or
// a step of 0 is kept.
void Equalize(Image* image) {
  const std::array<std::array<int64_t, 256>, 3> histograms = Histograms(*image);
  std::array<std::array<uint8_t, 256>, 3> lut;
  for (int c = 0; c < 3; ++c) {
    const std::array<int64_t, 256>& h = histograms[c];
    for (int i = 0; i < 256; ++i) lut[c][i] = static_cast<uint8_t>(i);
    int64_t total = 0, last = 0, present = 0;
    for (int i = 0; i < 256; ++i) {
      if (h[i] == 0) continue;
      total += h[i];
      last = h[i];
      ++present;
    }
    if (present <= 1) continue;
    const int64_t step = (total - last) / 255;
    if (step == 0) continue;
    int64_t n = step / 2;
    for (int i = 0; i < 256; ++i) {
      lut[c][i] = static_cast<uint8_t>(std::min<int64_t>(n / step, 255));
      n += h[i];
    }
  }
  ApplyLut(lut, image);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Public

absl::Status ValidateAutoAugmentOptions(const AutoAugmentOptions& options) {
  if (options.policy == Policy::kNone) return absl::OkStatus();
  if (options.num_magnitude_bins < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "auto augment num_magnitude_bins must be at least 2, got ", options.num_magnitude_bins));
  }
  if (options.policy == Policy::kRandAugment) {
    if (options.num_ops < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("rand_augment num_ops must be >= 0, got ", options.num_ops));
    }
    if (options.magnitude < 0 || options.magnitude >= options.num_magnitude_bins) {
      return absl::InvalidArgumentError(absl::StrCat(
          "rand_augment magnitude must be in [0, num_magnitude_bins = ", options.num_magnitude_bins,
          "), got ", options.magnitude));
    }
  }
  return absl::OkStatus();
}

absl::string_view AutoAugmentPolicyName(Policy policy) {
  switch (policy) {
    case Policy::kNone:
      return "none";
    case Policy::kTrivialAugmentWide:
      return "trivial_augment_wide";
    case Policy::kRandAugment:
      return "rand_augment";
  }
  return "unknown";
}

absl::StatusOr<Policy> ParseAutoAugmentPolicy(absl::string_view name) {
  for (const Policy policy : {Policy::kNone, Policy::kTrivialAugmentWide, Policy::kRandAugment}) {
    if (name == AutoAugmentPolicyName(policy)) return policy;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown auto augment policy \"", name,
                   "\" (expected none, trivial_augment_wide or rand_augment)"));
}

absl::string_view AugmentOpName(AugmentOp op) {
  static constexpr absl::string_view kNames[kNumAugmentOps] = {
      "Identity", "ShearX",   "ShearY",    "TranslateX", "TranslateY", "Rotate",       "Brightness",
      "Color",    "Contrast", "Sharpness", "Posterize",  "Solarize",   "AutoContrast", "Equalize"};
  const int index = static_cast<int>(op);
  return index >= 0 && index < kNumAugmentOps ? kNames[index] : "unknown";
}

bool IsSignedAugmentOp(AugmentOp op) {
  switch (op) {
    case AugmentOp::kShearX:
    case AugmentOp::kShearY:
    case AugmentOp::kTranslateX:
    case AugmentOp::kTranslateY:
    case AugmentOp::kRotate:
    case AugmentOp::kBrightness:
    case AugmentOp::kColor:
    case AugmentOp::kContrast:
    case AugmentOp::kSharpness:
      return true;
    default:
      return false;
  }
}

std::vector<double> AugmentMagnitudes(Policy policy, AugmentOp op, int num_bins, int width,
                                      int height) {
  CHECK(policy != Policy::kNone) << "policy none has no magnitudes";
  CHECK_GE(num_bins, 2);
  std::vector<double> table;
  if (!HasTable(op)) return table;
  table.reserve(num_bins);
  for (int i = 0; i < num_bins; ++i) {
    table.push_back(TableEntry(policy, op, num_bins, i, width, height));
  }
  return table;
}

std::vector<AugmentDraw> DrawAutoAugment(const AutoAugmentOptions& options, int width, int height,
                                         std::mt19937_64& rng) {
  const absl::Status valid = ValidateAutoAugmentOptions(options);
  CHECK(valid.ok()) << valid;
  std::vector<AugmentDraw> draws;
  const int bins = options.num_magnitude_bins;
  const auto draw_op = [&] { return static_cast<AugmentOp>(UniformBelow(rng, kNumAugmentOps)); };
  const auto draw_sign = [&](AugmentDraw& draw) {
    if (IsSignedAugmentOp(draw.op) && UniformBelow(rng, 2) == 1) draw.magnitude = -draw.magnitude;
  };
  switch (options.policy) {
    case Policy::kNone:
      break;
    case Policy::kTrivialAugmentWide: {
      AugmentDraw draw;
      draw.op = draw_op();
      if (HasTable(draw.op)) {
        const int bin = static_cast<int>(UniformBelow(rng, static_cast<uint64_t>(bins)));
        draw.magnitude = TableEntry(options.policy, draw.op, bins, bin, width, height);
      }
      draw_sign(draw);
      draws.push_back(draw);
      break;
    }
    case Policy::kRandAugment:
      for (int i = 0; i < options.num_ops; ++i) {
        AugmentDraw draw;
        draw.op = draw_op();
        draw.magnitude =
            TableEntry(options.policy, draw.op, bins, options.magnitude, width, height);
        draw_sign(draw);
        draws.push_back(draw);
      }
      break;
  }
  return draws;
}

void AutoAugment(const AutoAugmentOptions& options, std::mt19937_64& rng, Image* image) {
  if (options.policy == Policy::kNone) return;
  for (const AugmentDraw& draw : DrawAutoAugment(options, image->width, image->height, rng)) {
    ApplyAugmentOp(draw.op, draw.magnitude, image);
  }
}

void ApplyAugmentOp(AugmentOp op, double magnitude, Image* image) {
  CHECK(std::isfinite(magnitude)) << AugmentOpName(op) << " magnitude " << magnitude;
  CHECK_EQ(image->pixels.size(), static_cast<size_t>(image->width) * image->height * 3)
      << "inconsistent image " << image->width << "x" << image->height;
  if (image->pixels.empty()) return;
  switch (op) {
    case AugmentOp::kIdentity:
      return;
    case AugmentOp::kShearX:
      return Shear(/*horizontal=*/true, magnitude, image);
    case AugmentOp::kShearY:
      return Shear(/*horizontal=*/false, magnitude, image);
    case AugmentOp::kTranslateX:
      return Translate(/*horizontal=*/true, magnitude, image);
    case AugmentOp::kTranslateY:
      return Translate(/*horizontal=*/false, magnitude, image);
    case AugmentOp::kRotate:
      return Rotate(magnitude, image);
    case AugmentOp::kBrightness:
      return AdjustBrightness(1.0 + magnitude, image);
    case AugmentOp::kColor:
      return AdjustSaturation(1.0 + magnitude, image);
    case AugmentOp::kContrast:
      return AdjustContrast(1.0 + magnitude, image);
    case AugmentOp::kSharpness:
      return AdjustSharpness(1.0 + magnitude, image);
    case AugmentOp::kPosterize:
      // int(magnitude); anything outside [1, 8] fails the CHECK there.
      return Posterize(static_cast<int>(std::clamp(std::trunc(magnitude), -1.0, 9.0)), image);
    case AugmentOp::kSolarize:
      return Solarize(magnitude, image);
    case AugmentOp::kAutoContrast:
      return AutoContrast(image);
    case AugmentOp::kEqualize:
      return Equalize(image);
  }
  LOG(FATAL) << "unknown AugmentOp " << static_cast<int>(op);
}

void AdjustBrightness(double factor, Image* image) {
  const float alpha = static_cast<float>(factor);
  if (alpha == 1.0f) return;
  BlendAll(0, alpha, image);
}

FORGE_AVX2_CLONES void AdjustSaturation(double factor, Image* image) {
  const float alpha = static_cast<float>(factor);
  if (alpha == 1.0f) return;
  // Row by row: each pixel's luma repeated for its 3 samples, then one blend per sample (a
  // loop that vectorises).
  std::vector<uint8_t> gray(image->RowBytes());
  for (int y = 0; y < image->height; ++y) {
    uint8_t* row = image->Row(y);
    for (size_t i = 0; i < gray.size(); i += 3) {
      gray[i] = gray[i + 1] = gray[i + 2] = static_cast<uint8_t>(Luma(row + i));
    }
    for (size_t i = 0; i < gray.size(); ++i) row[i] = Blend(gray[i], row[i], alpha);
  }
}

FORGE_AVX2_CLONES void AdjustContrast(double factor, Image* image) {
  const float alpha = static_cast<float>(factor);
  if (alpha == 1.0f) return;
  std::vector<uint8_t>& p = image->pixels;
  // ImageStat's mean of the L image, in double, then int(mean + 0.5).
  int64_t sum = 0;
  for (size_t i = 0; i + 2 < p.size(); i += 3) sum += Luma(&p[i]);
  const size_t pixels = p.size() / 3;
  const int mean = pixels == 0 ? 0 : static_cast<int>(static_cast<double>(sum) / pixels + 0.5);
  BlendAll(mean, alpha, image);
}

FORGE_AVX2_CLONES void AdjustSharpness(double factor, Image* image) {
  const float alpha = static_cast<float>(factor);
  const int w = image->width, h = image->height;
  // ImagingFilter returns a copy of images smaller than its kernel: blending with it keeps
  // them. (So does a factor of 1.)
  if (alpha == 1.0f || w < 3 || h < 3) return;
  // ImageFilter.SMOOTH through ImagingFilter3x3 computes, per interior sample, 0.5 + the
  // weighted sum n (weights 1, centre 5) times float(1 / 13) and float(5 / 13), in float, and
  // truncates. The exact value n / 13 + 1/2 = (2n + 13) / 26 is an odd multiple of 1/26, never
  // closer than 1/26 to an integer, while the float arithmetic errs by less than 2e-4 (9
  // products and 8 sums below 256, each within 2^-24 relative): so Pillow's result is exactly
  // floor((2n + 13) / 26), at most 255 as n is at most 13 * 255. Integers here, which
  // vectorise.
  std::vector<uint8_t>& original = ScratchPixels();
  original = image->pixels;
  const size_t stride = image->RowBytes();
  for (int y = 1; y < h - 1; ++y) {
    const uint8_t* __restrict above = original.data() + (y - 1) * stride;
    const uint8_t* __restrict row = original.data() + y * stride;
    const uint8_t* __restrict below = original.data() + (y + 1) * stride;
    uint8_t* __restrict out = image->Row(y);
    for (size_t i = 3; i < stride - 3; ++i) {
      const int n = above[i - 3] + above[i] + above[i + 3] + row[i - 3] + 5 * row[i] + row[i + 3] +
                    below[i - 3] + below[i] + below[i + 3];
      out[i] = Blend((2 * n + 13) / 26, row[i], alpha);
    }
  }
  if (original.capacity() > kKeptScratchBytes) std::vector<uint8_t>().swap(original);
}

}  // namespace forge
