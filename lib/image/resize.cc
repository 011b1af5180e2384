// Pillow's bilinear resampling (Resample.c's algorithm, reimplemented) and torchvision's
// Resize/CenterCrop geometry on top of it.
//
// Bit-exactness with Pillow rests on computing the filter coefficients with the same double
// operations in the same order, and on the same fixed-point conversion and rounding; after
// that everything is exact integer arithmetic, so loop order is free.
#include "lib/image/resize.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "glog/logging.h"
#include "lib/image/image.h"

namespace forge {
namespace {

// Pillow: PRECISION_BITS = 32 - 8 - 2, leaving room for 8-bit samples and the sign.
constexpr int kPrecisionBits = 32 - 8 - 2;
constexpr int32_t kRoundingOffset = int32_t{1} << (kPrecisionBits - 1);
// Bilinear is the triangle filter with support 1.
constexpr double kBilinearSupport = 1.0;

double TriangleFilter(double x) {
  if (x < 0.0) x = -x;
  if (x < 1.0) return 1.0 - x;
  return 0.0;
}

// For each output sample along one axis: a window of `window` consecutive input samples
// starting at start[i] and their fixed-point weights. Pillow's windows vary in length; here
// every window has the same length, shifted to stay inside the input and padded with zero
// weights, which add exactly nothing: the sums are Pillow's, the loops have a fixed length.
struct Taps {
  int window = 0;
  std::vector<int> start;        // Per output sample.
  std::vector<int32_t> weights;  // out_size * window.
};

// Pillow's precompute_coeffs followed by normalize_coeffs_8bpc, for the box [0, in_size).
Taps ComputeTaps(int in_size, int out_size) {
  // Pillow passes the box edges as floats.
  const float in0 = 0.0f;
  const float in1 = static_cast<float>(in_size);
  const double scale = static_cast<double>(in1 - in0) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = kBilinearSupport * filterscale;
  const double inverse_filterscale = 1.0 / filterscale;
  // Pillow's ksize bounds the taps of every output sample.
  const int max_taps = static_cast<int>(std::ceil(support)) * 2 + 1;

  // Pillow's windows, [xmin, xmin + count).
  std::vector<int> xmins(out_size), counts(out_size);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    // Truncation towards zero, as Pillow's (int) casts.
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    CHECK(xmax - xmin >= 1 && xmax - xmin <= max_taps) << xmax - xmin << " taps";
    xmins[xx] = xmin;
    counts[xx] = xmax - xmin;
  }

  Taps taps;
  taps.window = *std::max_element(counts.begin(), counts.end());
  taps.start.resize(out_size);
  taps.weights.assign(static_cast<size_t>(out_size) * taps.window, 0);
  std::vector<double> k(taps.window);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    const int xmin = xmins[xx];
    const int n = counts[xx];
    double sum = 0.0;
    for (int x = 0; x < n; ++x) {
      // Same association as Pillow: ((x + xmin) - center) + 0.5.
      const double w = TriangleFilter((x + xmin - center + 0.5) * inverse_filterscale);
      k[x] = w;
      sum += w;
    }
    const int start = std::min(xmin, in_size - taps.window);
    int32_t* out = &taps.weights[static_cast<size_t>(xx) * taps.window + (xmin - start)];
    for (int x = 0; x < n; ++x) {
      double w = k[x];
      if (sum != 0.0) w /= sum;
      const double scaled = w * (1 << kPrecisionBits);
      out[x] = static_cast<int32_t>(w < 0 ? -0.5 + scaled : 0.5 + scaled);
    }
    taps.start[xx] = start;
  }
  return taps;
}

inline uint8_t Clip8(int32_t sum) {
  const int32_t v = sum >> kPrecisionBits;  // Arithmetic shift: floor, as Pillow.
  if (v < 0) return 0;
  if (v > 255) return 255;
  return static_cast<uint8_t>(v);
}

// One output row of the horizontal pass. kWindow > 0 fixes the window length at compile
// time (so the tap loop unrolls); 0 reads it from `taps`.
template <int kWindow>
void HorizontalRow(const uint8_t* src, const Taps& taps, int out_width, uint8_t* dst) {
  const int window = kWindow > 0 ? kWindow : taps.window;
  const int32_t* k = taps.weights.data();
  for (int xx = 0; xx < out_width; ++xx, k += window, dst += 3) {
    const uint8_t* s = src + static_cast<size_t>(taps.start[xx]) * 3;
    int32_t r = kRoundingOffset, g = kRoundingOffset, b = kRoundingOffset;
    for (int x = 0; x < window; ++x, s += 3) {
      r += s[0] * k[x];
      g += s[1] * k[x];
      b += s[2] * k[x];
    }
    dst[0] = Clip8(r);
    dst[1] = Clip8(g);
    dst[2] = Clip8(b);
  }
}

// Filters rows [row_begin, row_begin + out->height) of `in` horizontally into `out`.
void ResampleHorizontal(const Image& in, int row_begin, const Taps& taps, Image* out) {
  // Unrolled for the common windows, from upscaling (2) to downscaling by about 4 (8).
  using RowFunction = void (*)(const uint8_t*, const Taps&, int, uint8_t*);
  static constexpr RowFunction kUnrolled[] = {
      nullptr,           nullptr,           &HorizontalRow<2>, &HorizontalRow<3>, &HorizontalRow<4>,
      &HorizontalRow<5>, &HorizontalRow<6>, &HorizontalRow<7>, &HorizontalRow<8>};
  const RowFunction row_function =
      taps.window < static_cast<int>(std::size(kUnrolled)) && kUnrolled[taps.window] != nullptr
          ? kUnrolled[taps.window]
          : &HorizontalRow<0>;
  for (int y = 0; y < out->height; ++y) {
    row_function(in.Row(row_begin + y), taps, out->width, out->Row(y));
  }
}

// sum_t rows[t][i] * weights[t] for i in [begin, end), rounded and clipped into dst[i].
void VerticalBytes(const uint8_t* const* rows, const int32_t* weights, int window, size_t begin,
                   size_t end, uint8_t* dst) {
  for (size_t i = begin; i < end; ++i) {
    int32_t sum = kRoundingOffset;
    for (int t = 0; t < window; ++t) sum += rows[t][i] * weights[t];
    dst[i] = Clip8(sum);
  }
}

#if defined(__SSE2__)
constexpr int kSplitBits = 11;

// Weights of a pair of taps as pmaddwd wants them: 16-bit lanes alternating between the two
// taps, once for the high parts (w >> 11) and once for the low parts (w & 2047).
struct WeightPair {
  __m128i high;
  __m128i low;
};

WeightPair SplitWeights(int32_t w0, int32_t w1) {
  CHECK(w0 >= 0 && w0 <= (1 << kPrecisionBits) && w1 >= 0 && w1 <= (1 << kPrecisionBits))
      << "weights " << w0 << ", " << w1;
  const auto interleave = [](uint32_t lane0, uint32_t lane1) {
    return _mm_set1_epi32(static_cast<int32_t>(lane1 << 16 | lane0));
  };
  constexpr uint32_t kLowMask = (1u << kSplitBits) - 1;
  return {
      interleave(static_cast<uint32_t>(w0) >> kSplitBits, static_cast<uint32_t>(w1) >> kSplitBits),
      interleave(static_cast<uint32_t>(w0) & kLowMask, static_cast<uint32_t>(w1) & kLowMask)};
}

// VerticalBytes with SSE2, 16 bytes at a time. SSE2 multiplies 16-bit lanes only (pmaddwd),
// so each 22-bit weight w is split as w = high * 2^11 + low, both below 2^12, and the two
// partial sums are recombined exactly; int32 lanes wrap, and since the true total fits in
// int32, even wrapped partial sums recombine to it. `pairs` holds (window + 1) / 2 weight
// pairs; `pair_rows` 2 rows per pair (an odd window's last pair repeats its row, weight 0).
void VerticalSse2(const uint8_t* const* pair_rows, const WeightPair* pairs, int pair_count,
                  size_t begin, size_t end, uint8_t* dst) {
  const __m128i zero = _mm_setzero_si128();
  const __m128i offset = _mm_set1_epi32(kRoundingOffset);
  for (size_t i = begin; i + 16 <= end; i += 16) {
    __m128i h0 = zero, h1 = zero, h2 = zero, h3 = zero;
    __m128i l0 = zero, l1 = zero, l2 = zero, l3 = zero;
    for (int p = 0; p < pair_count; ++p) {
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(pair_rows[2 * p] + i));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(pair_rows[2 * p + 1] + i));
      const __m128i a_lo = _mm_unpacklo_epi8(a, zero);
      const __m128i a_hi = _mm_unpackhi_epi8(a, zero);
      const __m128i b_lo = _mm_unpacklo_epi8(b, zero);
      const __m128i b_hi = _mm_unpackhi_epi8(b, zero);
      // (a[j], b[j]) 16-bit pairs for bytes 0-3, 4-7, 8-11, 12-15.
      const __m128i p0 = _mm_unpacklo_epi16(a_lo, b_lo);
      const __m128i p1 = _mm_unpackhi_epi16(a_lo, b_lo);
      const __m128i p2 = _mm_unpacklo_epi16(a_hi, b_hi);
      const __m128i p3 = _mm_unpackhi_epi16(a_hi, b_hi);
      const __m128i high = pairs[p].high;
      const __m128i low = pairs[p].low;
      h0 = _mm_add_epi32(h0, _mm_madd_epi16(p0, high));
      h1 = _mm_add_epi32(h1, _mm_madd_epi16(p1, high));
      h2 = _mm_add_epi32(h2, _mm_madd_epi16(p2, high));
      h3 = _mm_add_epi32(h3, _mm_madd_epi16(p3, high));
      l0 = _mm_add_epi32(l0, _mm_madd_epi16(p0, low));
      l1 = _mm_add_epi32(l1, _mm_madd_epi16(p1, low));
      l2 = _mm_add_epi32(l2, _mm_madd_epi16(p2, low));
      l3 = _mm_add_epi32(l3, _mm_madd_epi16(p3, low));
    }
    const auto finish = [&](__m128i h, __m128i l) {
      const __m128i sum = _mm_add_epi32(_mm_add_epi32(_mm_slli_epi32(h, kSplitBits), l), offset);
      return _mm_srai_epi32(sum, kPrecisionBits);  // Arithmetic: floor, as Clip8.
    };
    // Saturating packs clip to [0, 255] as Clip8 does.
    const __m128i packed = _mm_packus_epi16(_mm_packs_epi32(finish(h0, l0), finish(h1, l1)),
                                            _mm_packs_epi32(finish(h2, l2), finish(h3, l3)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), packed);
  }
}
#endif

// Filters `in` vertically into `out`; tap rows are relative to `row_offset` in `in`.
void ResampleVertical(const Image& in, int row_offset, const Taps& taps, Image* out) {
  const size_t row_bytes = out->RowBytes();
  const int window = taps.window;
  std::vector<const uint8_t*> rows(window);
#if defined(__SSE2__)
  const int pair_count = (window + 1) / 2;
  std::vector<WeightPair> pairs(pair_count);
  std::vector<const uint8_t*> pair_rows(2 * pair_count);
  const size_t simd_end = row_bytes / 16 * 16;
#endif
  for (int yy = 0; yy < out->height; ++yy) {
    for (int t = 0; t < window; ++t) rows[t] = in.Row(taps.start[yy] - row_offset + t);
    const int32_t* k = &taps.weights[static_cast<size_t>(yy) * window];
    uint8_t* dst = out->Row(yy);
#if defined(__SSE2__)
    for (int p = 0; p < pair_count; ++p) {
      const bool odd = 2 * p + 1 == window;
      pairs[p] = SplitWeights(k[2 * p], odd ? 0 : k[2 * p + 1]);
      pair_rows[2 * p] = rows[2 * p];
      pair_rows[2 * p + 1] = rows[odd ? 2 * p : 2 * p + 1];
    }
    VerticalSse2(pair_rows.data(), pairs.data(), pair_count, 0, simd_end, dst);
    VerticalBytes(rows.data(), k, window, simd_end, row_bytes, dst);
#else
    VerticalBytes(rows.data(), k, window, 0, row_bytes, dst);
#endif
  }
}

void CheckConsistent(const Image& image) {
  CHECK_GE(image.width, 0);
  CHECK_GE(image.height, 0);
  CHECK_EQ(image.pixels.size(), image.RowBytes() * static_cast<size_t>(image.height))
      << "Image " << image.width << "x" << image.height << " has a wrong pixel count";
}

// Python's round(d / 2.0) for d >= 0: halves go to the even neighbour.
int HalfRoundedToEven(int d) {
  const int half = d / 2;
  if (d % 2 == 0 || half % 2 == 0) return half;
  return half + 1;
}

}  // namespace

Image Resize(const Image& in, int out_width, int out_height) {
  CheckConsistent(in);
  CHECK(in.width > 0 && in.height > 0) << "cannot resize an empty image";
  CHECK(out_width > 0 && out_height > 0)
      << "invalid resize target " << out_width << "x" << out_height;
  const bool need_horizontal = out_width != in.width;
  const bool need_vertical = out_height != in.height;
  if (!need_horizontal && !need_vertical) return in;

  // Pillow 13.0.0 (python-pillow/Pillow#9549) filters vertically first when the height loses
  // more than twice as many pixels as the width, to make the horizontal pass cheaper; the
  // 8-bit rounding between the passes makes the order visible in the result.
  const int height_loss = in.height - out_height;
  const int width_loss = in.width - out_width;
  if (height_loss > 0 && height_loss > 2 * width_loss) {
    Image vertical(in.width, out_height);
    ResampleVertical(in, /*row_offset=*/0, ComputeTaps(in.height, out_height), &vertical);
    if (!need_horizontal) return vertical;
    Image out(out_width, out_height);
    ResampleHorizontal(vertical, /*row_begin=*/0, ComputeTaps(in.width, out_width), &out);
    return out;
  }

  Image horizontal;
  const Image* source = &in;
  int row_offset = 0;
  Taps vertical_taps;
  if (need_vertical) vertical_taps = ComputeTaps(in.height, out_height);
  if (need_horizontal) {
    // Only the rows the vertical pass reads (all of them if there is none).
    int row_begin = 0;
    int row_end = in.height;
    if (need_vertical) {
      row_begin = vertical_taps.start.front();
      row_end = vertical_taps.start.back() + vertical_taps.window;
    }
    horizontal = Image(out_width, row_end - row_begin);
    ResampleHorizontal(in, row_begin, ComputeTaps(in.width, out_width), &horizontal);
    if (!need_vertical) return horizontal;
    source = &horizontal;
    row_offset = row_begin;
  }
  Image out(out_width, out_height);
  ResampleVertical(*source, row_offset, vertical_taps, &out);
  return out;
}

Image ResizeShorterSide(const Image& in, int size) {
  CHECK(in.width > 0 && in.height > 0) << "cannot resize an empty image";
  CHECK_GT(size, 0);
  // torchvision's _compute_resized_output_size: int(size * long / short), the product exact
  // and the quotient a correctly rounded double, then truncated.
  const bool portrait = in.width <= in.height;
  const int short_side = portrait ? in.width : in.height;
  const int long_side = portrait ? in.height : in.width;
  const int new_long = static_cast<int>(static_cast<double>(int64_t{size} * long_side) /
                                        static_cast<double>(short_side));
  return portrait ? Resize(in, size, new_long) : Resize(in, new_long, size);
}

Image CenterCrop(const Image& in, int width, int height) {
  CheckConsistent(in);
  CHECK(width > 0 && height > 0) << "invalid crop size " << width << "x" << height;
  // torchvision pads a short side with (crop - side) // 2 zeros before and the rest after,
  // then crops the padded image; the crop offset into the padded image is 0 on that side.
  const int pad_left = width > in.width ? (width - in.width) / 2 : 0;
  const int pad_top = height > in.height ? (height - in.height) / 2 : 0;
  const int padded_width = std::max(in.width, width);
  const int padded_height = std::max(in.height, height);
  // Crop origin in input coordinates; negative where padding shows.
  const int left = HalfRoundedToEven(padded_width - width) - pad_left;
  const int top = HalfRoundedToEven(padded_height - height) - pad_top;

  Image out(width, height);  // Zero-filled: the padding.
  const int x_begin = std::max(0, -left);
  const int x_end = std::min(width, in.width - left);
  if (x_end <= x_begin) return out;
  for (int y = 0; y < height; ++y) {
    const int source_y = top + y;
    if (source_y < 0 || source_y >= in.height) continue;
    std::memcpy(out.Row(y) + static_cast<size_t>(x_begin) * 3,
                in.Row(source_y) + static_cast<size_t>(left + x_begin) * 3,
                static_cast<size_t>(x_end - x_begin) * 3);
  }
  return out;
}

}  // namespace forge
