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

#include <memory>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define FORGE_RESIZE_AVX2 1
#endif

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
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

// Output pixels [begin, end) of one row of the horizontal pass. kWindow > 0 fixes the window
// length at compile time (so the tap loop unrolls); 0 reads it from `taps`. Pixel xx goes to
// position xx, or out_width - 1 - xx when mirroring.
template <int kWindow>
void HorizontalPixels(const uint8_t* src, const Taps& taps, int out_width, bool mirror, int begin,
                      int end, uint8_t* dst) {
  const int window = kWindow > 0 ? kWindow : taps.window;
  for (int xx = begin; xx < end; ++xx) {
    const int32_t* k = &taps.weights[static_cast<size_t>(xx) * window];
    const uint8_t* s = src + static_cast<size_t>(taps.start[xx]) * 3;
    int32_t r = kRoundingOffset, g = kRoundingOffset, b = kRoundingOffset;
    for (int x = 0; x < window; ++x, s += 3) {
      r += s[0] * k[x];
      g += s[1] * k[x];
      b += s[2] * k[x];
    }
    uint8_t* out = dst + static_cast<size_t>(mirror ? out_width - 1 - xx : xx) * 3;
    out[0] = Clip8(r);
    out[1] = Clip8(g);
    out[2] = Clip8(b);
  }
}

using PixelsFunction = void (*)(const uint8_t*, const Taps&, int, bool, int, int, uint8_t*);

// Unrolled for the common windows, from upscaling (2) to downscaling by about 4 (8).
PixelsFunction ScalarPixelsFunction(int window) {
  static constexpr PixelsFunction kUnrolled[] = {
      nullptr,
      nullptr,
      &HorizontalPixels<2>,
      &HorizontalPixels<3>,
      &HorizontalPixels<4>,
      &HorizontalPixels<5>,
      &HorizontalPixels<6>,
      &HorizontalPixels<7>,
      &HorizontalPixels<8>};
  return window < static_cast<int>(std::size(kUnrolled)) && kUnrolled[window] != nullptr
             ? kUnrolled[window]
             : &HorizontalPixels<0>;
}

#if defined(FORGE_RESIZE_AVX2)
bool simd_enabled = true;

bool UseAvx2() {
  static const bool has_avx2 = __builtin_cpu_supports("avx2");
  return has_avx2 && simd_enabled;
}

constexpr int kSplitBitsH = 11;

// The horizontal taps as AVX2 wants them, two output pixels per 256-bit step. Taps go in
// pairs (t, t + 1); a 16-byte load at the window's first pixel holds 4 taps (12 bytes), which
// a byte shuffle spreads into 16-bit lanes (R_t, R_t+1, G_t, G_t+1, B_t, B_t+1, 0, 0), one
// shuffle per pair. pmaddwd then sums each channel over the pair, with every 22-bit weight
// split into high and low 11-bit parts as in the vertical pass (exact: see VerticalSse2).
struct HorizontalSimdTaps {
  int pairs = 0;   // (window + 1) / 2
  int loads = 0;   // (pairs + 1) / 2 loads of 16 bytes, 12 bytes apart
  // [pixel pair q][tap pair j][high, low] -> 16 int16 lanes: the 8 lanes of pixel 2q, then of
  // pixel 2q + 1, each (w_t, w_t+1) x 3 then (0, 0).
  std::vector<int16_t> weights;
  // Output pixels below this can use 16-byte loads for every tap pair without reading past
  // the end of the input (later ones, if any, are done in scalar code).
  int simd_end = 0;
};

HorizontalSimdTaps MakeHorizontalSimdTaps(const Taps& taps, int out_width, size_t readable) {
  HorizontalSimdTaps simd;
  simd.pairs = (taps.window + 1) / 2;
  simd.loads = (simd.pairs + 1) / 2;
  const int pixel_pairs = out_width / 2;
  simd.weights.assign(static_cast<size_t>(pixel_pairs) * simd.pairs * 2 * 16, 0);
  for (int xx = 0; xx < pixel_pairs * 2; ++xx) {
    const int32_t* k = &taps.weights[static_cast<size_t>(xx) * taps.window];
    for (int j = 0; j < simd.pairs; ++j) {
      const int32_t w0 = k[2 * j];
      const int32_t w1 = 2 * j + 1 < taps.window ? k[2 * j + 1] : 0;
      CHECK(w0 >= 0 && w0 <= (1 << kPrecisionBits) && w1 >= 0 && w1 <= (1 << kPrecisionBits))
          << "weights " << w0 << ", " << w1;
      for (int part = 0; part < 2; ++part) {
        const auto split = [part](int32_t w) {
          return static_cast<int16_t>(part == 0 ? w >> kSplitBitsH : w & ((1 << kSplitBitsH) - 1));
        };
        int16_t* lanes = &simd.weights[((static_cast<size_t>(xx / 2) * simd.pairs + j) * 2 + part) * 16 +
                                       (xx % 2) * 8];
        for (int c = 0; c < 3; ++c) {
          lanes[2 * c] = split(w0);
          lanes[2 * c + 1] = split(w1);
        }
      }
    }
  }
  // The last load of pixel xx ends at start * 3 + 12 * (loads - 1) + 16.
  simd.simd_end = out_width;
  while (simd.simd_end > 0 &&
         static_cast<size_t>(taps.start[simd.simd_end - 1]) * 3 + 12 * (simd.loads - 1) + 16 >
             readable) {
    --simd.simd_end;
  }
  return simd;
}

// The weighted sums of output pixels 2q and 2q + 1 (in the two 128-bit lanes: R, G, B, 0 as
// 32-bit lanes), rounded and shifted down to 8 bits but not yet clipped.
template <int kPairs>
__attribute__((target("avx2"), always_inline)) inline __m256i HorizontalPairAvx2(
    const uint8_t* src, const Taps& taps, const HorizontalSimdTaps& simd, int q,
    __m256i shuffle0, __m256i shuffle1) {
  const int pairs = kPairs > 0 ? kPairs : simd.pairs;
  const uint8_t* p0 = src + static_cast<size_t>(taps.start[2 * q]) * 3;
  const uint8_t* p1 = src + static_cast<size_t>(taps.start[2 * q + 1]) * 3;
  const int16_t* w = &simd.weights[static_cast<size_t>(q) * pairs * 2 * 16];
  __m256i high = _mm256_setzero_si256();
  // The rounding offset, added to the low part (exact: see VerticalSse2).
  __m256i low = _mm256_set1_epi32(kRoundingOffset);
  for (int j = 0; j < pairs; j += 2) {
    const __m256i pixels = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p0 + 6 * j))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p1 + 6 * j)), 1);
    const __m256i a = _mm256_shuffle_epi8(pixels, shuffle0);
    high = _mm256_add_epi32(
        high, _mm256_madd_epi16(a, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w))));
    low = _mm256_add_epi32(
        low, _mm256_madd_epi16(a, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 16))));
    w += 32;
    if (j + 1 < pairs) {
      const __m256i b = _mm256_shuffle_epi8(pixels, shuffle1);
      high = _mm256_add_epi32(
          high, _mm256_madd_epi16(b, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w))));
      low = _mm256_add_epi32(
          low, _mm256_madd_epi16(b, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 16))));
      w += 32;
    }
  }
  // Floor, as Clip8.
  return _mm256_srai_epi32(_mm256_add_epi32(_mm256_slli_epi32(high, kSplitBitsH), low),
                           kPrecisionBits);
}

// Output pixels [0, 4 * groups) of one row (4 * groups <= simd.simd_end), four at a time, in
// the order that makes the stores move forward through `dst`: each group's 12 bytes are
// stored as 16, whose last 4 the next group (or the scalar pixels after) overwrites; near the
// end of the row exactly 12 are stored.
template <int kPairs>
__attribute__((target("avx2"))) void HorizontalAvx2(const uint8_t* src, const Taps& taps,
                                                    const HorizontalSimdTaps& simd, int out_width,
                                                    bool mirror, int groups, uint8_t* dst) {
  // Byte shuffles for tap pair 0 and 1 of a load: (R_t, R_t+1, G_t, G_t+1, B_t, B_t+1) as
  // 16-bit lanes, then two zero lanes (-1 selects zero).
  const __m256i shuffle0 = _mm256_setr_epi8(0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1,
                                            0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1);
  const __m256i shuffle1 = _mm256_setr_epi8(6, -1, 9, -1, 7, -1, 10, -1, 8, -1, 11, -1, -1, -1, -1, -1,
                                            6, -1, 9, -1, 7, -1, 10, -1, 8, -1, 11, -1, -1, -1, -1, -1);
  // After the packs below, 32-bit lane k of the low half holds pixel RGB0 of: 0 -> pixel 0,
  // 4 -> pixel 1, 1 -> pixel 2, 5 -> pixel 3 of the group. Gather them in output order.
  const __m256i forward = _mm256_setr_epi32(0, 4, 1, 5, 0, 0, 0, 0);
  const __m256i backward = _mm256_setr_epi32(5, 1, 4, 0, 0, 0, 0, 0);
  const __m256i order = mirror ? backward : forward;
  // RGB0 x 4 -> RGB x 4 in the first 12 bytes.
  const __m128i compact = _mm_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
  for (int i = 0; i < groups; ++i) {
    const int g = mirror ? groups - 1 - i : i;
    const __m256i sum01 = HorizontalPairAvx2<kPairs>(src, taps, simd, 2 * g, shuffle0, shuffle1);
    const __m256i sum23 =
        HorizontalPairAvx2<kPairs>(src, taps, simd, 2 * g + 1, shuffle0, shuffle1);
    // Saturating packs clip to [0, 255] as Clip8 does (within 128-bit lanes).
    const __m256i words = _mm256_packs_epi32(sum01, sum23);
    const __m256i bytes = _mm256_packus_epi16(words, words);
    const __m128i pixels = _mm_shuffle_epi8(
        _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(bytes, order)), compact);
    const int first = mirror ? out_width - 4 * g - 4 : 4 * g;  // Position of the group.
    uint8_t* out = dst + static_cast<size_t>(first) * 3;
    // 16 bytes when at least 4 more bytes (2 pixels) of the row follow the group's 12.
    if (first + 6 <= out_width) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out), pixels);
    } else {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out), pixels);
      const uint32_t last = static_cast<uint32_t>(_mm_extract_epi32(pixels, 2));
      std::memcpy(out + 8, &last, 4);
    }
  }
}

using Avx2Function = void (*)(const uint8_t*, const Taps&, const HorizontalSimdTaps&, int, bool,
                              int, uint8_t*);

Avx2Function Avx2PixelsFunction(int pairs) {
  switch (pairs) {
    case 1:
      return &HorizontalAvx2<1>;
    case 2:
      return &HorizontalAvx2<2>;
    case 3:
      return &HorizontalAvx2<3>;
    case 4:
      return &HorizontalAvx2<4>;
    default:
      return &HorizontalAvx2<0>;
  }
}
#endif  // FORGE_RESIZE_AVX2

// Filters `rows` rows of `in` (starting at `in`, `in_stride` bytes apart, `readable` bytes
// from `in` to the end of its buffer) horizontally into `out` (out_width pixels per row,
// `out_stride` bytes apart), mirrored left-right when `mirror`.
void ResampleHorizontal(const uint8_t* in, size_t in_stride, size_t readable, int rows,
                        const Taps& taps, int out_width, bool mirror, uint8_t* out,
                        size_t out_stride) {
  const PixelsFunction scalar = ScalarPixelsFunction(taps.window);
#if defined(FORGE_RESIZE_AVX2)
  if (UseAvx2() && out_width >= 4) {
    // The SIMD limit is computed for the last row, which has the least room after it.
    const size_t last_row = static_cast<size_t>(rows - 1) * in_stride;
    const HorizontalSimdTaps simd = MakeHorizontalSimdTaps(taps, out_width, readable - last_row);
    const Avx2Function vector = Avx2PixelsFunction(simd.pairs);
    const int groups = std::min(simd.simd_end, out_width) / 4;
    for (int y = 0; y < rows; ++y) {
      const uint8_t* src = in + static_cast<size_t>(y) * in_stride;
      uint8_t* dst = out + static_cast<size_t>(y) * out_stride;
      vector(src, taps, simd, out_width, mirror, groups, dst);
      // After the vector stores, whose last 4 bytes these may overwrite.
      scalar(src, taps, out_width, mirror, 4 * groups, out_width, dst);
    }
    return;
  }
#endif
  for (int y = 0; y < rows; ++y) {
    scalar(in + static_cast<size_t>(y) * in_stride, taps, out_width, mirror, 0, out_width,
           out + static_cast<size_t>(y) * out_stride);
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

#if defined(FORGE_RESIZE_AVX2)
// VerticalSse2 32 bytes at a time: every AVX2 step below works within 128-bit lanes, exactly
// as the SSE2 code does on one register, so each lane computes what VerticalSse2 would.
__attribute__((target("avx2"))) void VerticalAvx2(const uint8_t* const* pair_rows,
                                                  const WeightPair* pairs, int pair_count,
                                                  size_t begin, size_t end, uint8_t* dst) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i offset = _mm256_set1_epi32(kRoundingOffset);
  for (size_t i = begin; i + 32 <= end; i += 32) {
    __m256i h0 = zero, h1 = zero, h2 = zero, h3 = zero;
    __m256i l0 = zero, l1 = zero, l2 = zero, l3 = zero;
    for (int p = 0; p < pair_count; ++p) {
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pair_rows[2 * p] + i));
      const __m256i b =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pair_rows[2 * p + 1] + i));
      const __m256i a_lo = _mm256_unpacklo_epi8(a, zero);
      const __m256i a_hi = _mm256_unpackhi_epi8(a, zero);
      const __m256i b_lo = _mm256_unpacklo_epi8(b, zero);
      const __m256i b_hi = _mm256_unpackhi_epi8(b, zero);
      const __m256i p0 = _mm256_unpacklo_epi16(a_lo, b_lo);
      const __m256i p1 = _mm256_unpackhi_epi16(a_lo, b_lo);
      const __m256i p2 = _mm256_unpacklo_epi16(a_hi, b_hi);
      const __m256i p3 = _mm256_unpackhi_epi16(a_hi, b_hi);
      const __m256i high = _mm256_broadcastsi128_si256(pairs[p].high);
      const __m256i low = _mm256_broadcastsi128_si256(pairs[p].low);
      h0 = _mm256_add_epi32(h0, _mm256_madd_epi16(p0, high));
      h1 = _mm256_add_epi32(h1, _mm256_madd_epi16(p1, high));
      h2 = _mm256_add_epi32(h2, _mm256_madd_epi16(p2, high));
      h3 = _mm256_add_epi32(h3, _mm256_madd_epi16(p3, high));
      l0 = _mm256_add_epi32(l0, _mm256_madd_epi16(p0, low));
      l1 = _mm256_add_epi32(l1, _mm256_madd_epi16(p1, low));
      l2 = _mm256_add_epi32(l2, _mm256_madd_epi16(p2, low));
      l3 = _mm256_add_epi32(l3, _mm256_madd_epi16(p3, low));
    }
    // (h << 11) + l + offset, floored to 8 bits; no lambda: it would lose the target.
#define FORGE_FINISH(h, l)                                                                    \
  _mm256_srai_epi32(_mm256_add_epi32(_mm256_add_epi32(_mm256_slli_epi32(h, kSplitBits), l), \
                                     offset),                                               \
                    kPrecisionBits)
    const __m256i packed =
        _mm256_packus_epi16(_mm256_packs_epi32(FORGE_FINISH(h0, l0), FORGE_FINISH(h1, l1)),
                            _mm256_packs_epi32(FORGE_FINISH(h2, l2), FORGE_FINISH(h3, l3)));
#undef FORGE_FINISH
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), packed);
  }
}
#endif

// Filters rows of `in` (`in_stride` bytes apart) vertically into out_height rows of `out`
// (`out_stride` bytes apart), row_bytes bytes each; tap rows are relative to `row_offset`.
void ResampleVertical(const uint8_t* in, size_t in_stride, int row_offset, const Taps& taps,
                      size_t row_bytes, int out_height, uint8_t* out, size_t out_stride) {
  const int window = taps.window;
  std::vector<const uint8_t*> rows(window);
#if defined(__SSE2__)
  const int pair_count = (window + 1) / 2;
  std::vector<WeightPair> pairs(pair_count);
  std::vector<const uint8_t*> pair_rows(2 * pair_count);
  size_t avx2_end = 0;
#if defined(FORGE_RESIZE_AVX2)
  if (UseAvx2()) avx2_end = row_bytes / 32 * 32;
#endif
  const size_t simd_end = avx2_end + (row_bytes - avx2_end) / 16 * 16;
#endif
  for (int yy = 0; yy < out_height; ++yy) {
    for (int t = 0; t < window; ++t) {
      rows[t] = in + static_cast<size_t>(taps.start[yy] - row_offset + t) * in_stride;
    }
    const int32_t* k = &taps.weights[static_cast<size_t>(yy) * window];
    uint8_t* dst = out + static_cast<size_t>(yy) * out_stride;
#if defined(__SSE2__)
    for (int p = 0; p < pair_count; ++p) {
      const bool odd = 2 * p + 1 == window;
      pairs[p] = SplitWeights(k[2 * p], odd ? 0 : k[2 * p + 1]);
      pair_rows[2 * p] = rows[2 * p];
      pair_rows[2 * p + 1] = rows[odd ? 2 * p : 2 * p + 1];
    }
#if defined(FORGE_RESIZE_AVX2)
    if (avx2_end > 0) VerticalAvx2(pair_rows.data(), pairs.data(), pair_count, 0, avx2_end, dst);
#endif
    VerticalSse2(pair_rows.data(), pairs.data(), pair_count, avx2_end, simd_end, dst);
    VerticalBytes(rows.data(), k, window, simd_end, row_bytes, dst);
#else
    VerticalBytes(rows.data(), k, window, 0, row_bytes, dst);
#endif
  }
}

// Memory for the intermediate image, uninitialised (it is overwritten in full) and reused by
// the thread's next resize: fresh memory would cost a page fault per 4 KiB on first touch.
// Up to kKeptScratchBytes stay allocated per thread; larger requests are one-off.
class Scratch {
 public:
  explicit Scratch(size_t bytes) {
    constexpr size_t kKeptScratchBytes = size_t{32} << 20;
    thread_local std::unique_ptr<uint8_t[]> kept;
    thread_local size_t kept_bytes = 0;
    if (bytes > kKeptScratchBytes) {
      one_off_.reset(new uint8_t[bytes]);
      data_ = one_off_.get();
      return;
    }
    if (bytes > kept_bytes) {
      kept.reset();
      kept.reset(new uint8_t[bytes]);
      kept_bytes = bytes;
    }
    data_ = kept.get();
  }
  uint8_t* get() const { return data_; }

 private:
  std::unique_ptr<uint8_t[]> one_off_;
  uint8_t* data_ = nullptr;
};

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

#if defined(FORGE_RESIZE_AVX2)
void SetResizeSimdForTesting(bool enabled) { simd_enabled = enabled; }
#else
void SetResizeSimdForTesting(bool) {}
#endif

void ResizeInto(const Image& in, int out_width, int out_height, bool mirror, uint8_t* out) {
  CheckConsistent(in);
  CHECK(in.width > 0 && in.height > 0) << "cannot resize an empty image";
  CHECK(out_width > 0 && out_height > 0)
      << "invalid resize target " << out_width << "x" << out_height;
  const bool need_horizontal = out_width != in.width;
  const bool need_vertical = out_height != in.height;
  const size_t out_row = static_cast<size_t>(out_width) * 3;
  const uint8_t* pixels = in.pixels.data();
  const size_t in_row = in.RowBytes();

  if (!need_horizontal) {
    // Only the vertical pass (or none): mirror while copying, if asked.
    const uint8_t* source = pixels;
    std::unique_ptr<Scratch> vertical;
    if (need_vertical) {
      if (!mirror) {
        ResampleVertical(pixels, in_row, 0, ComputeTaps(in.height, out_height), out_row,
                         out_height, out, out_row);
        return;
      }
      vertical = std::make_unique<Scratch>(out_row * out_height);
      ResampleVertical(pixels, in_row, 0, ComputeTaps(in.height, out_height), out_row,
                       out_height, vertical->get(), out_row);
      source = vertical->get();
    }
    for (int y = 0; y < out_height; ++y) {
      const uint8_t* row = source + y * out_row;
      uint8_t* dst = out + y * out_row;
      if (!mirror) {
        std::memcpy(dst, row, out_row);
        continue;
      }
      for (int x = 0; x < out_width; ++x) std::memcpy(dst + 3 * x, row + 3 * (out_width - 1 - x), 3);
    }
    return;
  }

  // Pillow 13.0.0 (python-pillow/Pillow#9549) filters vertically first when the height loses
  // more than twice as many pixels as the width, to make the horizontal pass cheaper; the
  // 8-bit rounding between the passes makes the order visible in the result. The mirror is
  // done by the horizontal pass, which writes its columns in reverse order; the vertical pass
  // treats every column alike, so before or after it, this is the mirror of the result.
  const Taps horizontal_taps = ComputeTaps(in.width, out_width);
  const int height_loss = in.height - out_height;
  const int width_loss = in.width - out_width;
  if (height_loss > 0 && height_loss > 2 * width_loss) {
    const Scratch vertical(in_row * out_height);
    ResampleVertical(pixels, in_row, 0, ComputeTaps(in.height, out_height), in_row, out_height,
                     vertical.get(), in_row);
    ResampleHorizontal(vertical.get(), in_row, in_row * out_height, out_height, horizontal_taps,
                       out_width, mirror, out, out_row);
    return;
  }
  if (!need_vertical) {
    ResampleHorizontal(pixels, in_row, in.pixels.size(), in.height, horizontal_taps, out_width,
                       mirror, out, out_row);
    return;
  }
  // Only the rows the vertical pass reads.
  const Taps vertical_taps = ComputeTaps(in.height, out_height);
  const int row_begin = vertical_taps.start.front();
  const int row_end = vertical_taps.start.back() + vertical_taps.window;
  const Scratch horizontal(out_row * (row_end - row_begin));
  const uint8_t* first = pixels + static_cast<size_t>(row_begin) * in_row;
  ResampleHorizontal(first, in_row, in.pixels.size() - (first - pixels), row_end - row_begin,
                     horizontal_taps, out_width, mirror, horizontal.get(), out_row);
  ResampleVertical(horizontal.get(), out_row, row_begin, vertical_taps, out_row, out_height, out,
                   out_row);
}

Image Resize(const Image& in, int out_width, int out_height) {
  if (out_width == in.width && out_height == in.height) {
    CheckConsistent(in);
    return in;
  }
  Image out(out_width, out_height);
  ResizeInto(in, out_width, out_height, /*mirror=*/false, out.pixels.data());
  return out;
}

absl::Status CheckImageSize(int64_t width, int64_t height) {
  if (width <= 0 || height <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("empty image size ", width, "x", height));
  }
  if (width > kMaxImageSide || height > kMaxImageSide) {
    return absl::InvalidArgumentError(absl::StrCat("image size ", width, "x", height,
                                                   " has a side longer than ", kMaxImageSide));
  }
  if (width * height > kMaxImagePixels) {
    return absl::InvalidArgumentError(absl::StrCat("image size ", width, "x", height,
                                                   " has more than ", kMaxImagePixels, " pixels"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::pair<int, int>> ShorterSideSize(int width, int height, int size) {
  if (width <= 0 || height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resize an empty image (", width, "x", height, ")"));
  }
  if (size <= 0) return absl::InvalidArgumentError(absl::StrCat("invalid resize size ", size));
  // torchvision's _compute_resized_output_size: int(size * long / short), the product exact
  // and the quotient a correctly rounded double, then truncated. In 64 bits and checked
  // before the cast: an extreme aspect ratio would overflow an int.
  const bool portrait = width <= height;
  const int short_side = portrait ? width : height;
  const int long_side = portrait ? height : width;
  const double new_long =
      static_cast<double>(int64_t{size} * long_side) / static_cast<double>(short_side);
  const int64_t bounded_long = static_cast<int64_t>(std::min(new_long, 1e15));
  const int64_t out_width = portrait ? size : bounded_long;
  const int64_t out_height = portrait ? bounded_long : size;
  if (absl::Status status = CheckImageSize(out_width, out_height); !status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("resizing ", width, "x", height,
                                                   " to shorter side ", size, ": ",
                                                   status.message()));
  }
  return std::make_pair(static_cast<int>(out_width), static_cast<int>(out_height));
}

absl::StatusOr<Image> ResizeShorterSide(const Image& in, int size) {
  CheckConsistent(in);
  absl::StatusOr<std::pair<int, int>> out = ShorterSideSize(in.width, in.height, size);
  if (!out.ok()) return out.status();
  return Resize(in, out->first, out->second);
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
