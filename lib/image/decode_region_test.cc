// Tests for DecodeRegion and RegionScaleEighths: at full scale the region's pixels must be
// exactly DecodeImage's cropped, for every JPEG kind (chroma subsamplings, progressive,
// restart markers, grayscale, RGB, CMYK, YCCK) and every kind of region (edges, corners,
// 1 pixel, iMCU-unaligned); at reduced scales the region must be close to a Pillow resize of
// the crop; truncated, corrupt and random input must fail cleanly.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/image/decode.h"
#include "lib/image/golden.h"
#include "lib/image/image.h"
#include "lib/image/resize.h"
#include "testdata/image_writers.h"

// jpeglib.h needs FILE and size_t declared before it.
#include <jpeglib.h>

namespace forge {
namespace {

using ::forge::image_testing::ReadTestdata;
using ::testing::HasSubstr;

// Gradients with per-pixel noise: JPEG keeps many AC coefficients, so that a wrong block,
// a wrong upsampling neighbour or a wrong row shows in the pixels.
std::vector<uint8_t> Textured(int width, int height, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> rgb(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) {
        const int base = 40 + (x * (c + 2) * 150 / width + y * (4 - c) * 100 / height) / 3;
        const int v = base + static_cast<int>(rng() % 31) - 15;
        rgb[(static_cast<size_t>(y) * width + x) * 3 + c] =
            static_cast<uint8_t>(std::clamp(v, 0, 255));
      }
    }
  }
  return rgb;
}

// Smooth content, for comparing scaled decoding with a resize (texture finer than the
// output's pixels is filtered differently by the two).
std::vector<uint8_t> Smooth(int width, int height) {
  std::vector<uint8_t> rgb(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
      p[0] = static_cast<uint8_t>(128 + 100 * std::sin(x * 0.05) * std::cos(y * 0.03));
      p[1] = static_cast<uint8_t>(30 + y * 190 / height);
      p[2] = static_cast<uint8_t>(128 + 90 * std::cos((x + y) * 0.04));
    }
  }
  return rgb;
}

// A JPEG of one kind, written with libjpeg so that every sampling and colour space is
// reachable.
struct JpegKind {
  const char* name;
  J_COLOR_SPACE space;  // Stored colour space.
  int h_samp = 1;       // Luma (first component) sampling; the others are 1x1.
  int v_samp = 1;
  bool progressive = false;
  int restart_rows = 0;  // Restart marker every this many MCU rows (0: none).
};

std::string EncodeKind(const JpegKind& kind, const std::vector<uint8_t>& rgb, int width,
                       int height, int quality = 90) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);  // Exits on error: acceptable for fixed, valid input.
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = width;
  cinfo.image_height = height;
  int components = 3;
  if (kind.space == JCS_GRAYSCALE) {
    components = 1;
    cinfo.in_color_space = JCS_GRAYSCALE;
  } else if (kind.space == JCS_CMYK || kind.space == JCS_YCCK) {
    components = 4;
    cinfo.in_color_space = JCS_CMYK;
  } else {
    cinfo.in_color_space = JCS_RGB;
  }
  cinfo.input_components = components;
  jpeg_set_defaults(&cinfo);
  jpeg_set_colorspace(&cinfo, kind.space);
  jpeg_set_quality(&cinfo, quality, TRUE);
  for (int c = 0; c < cinfo.num_components; ++c) {
    cinfo.comp_info[c].h_samp_factor = c == 0 ? kind.h_samp : 1;
    cinfo.comp_info[c].v_samp_factor = c == 0 ? kind.v_samp : 1;
  }
  if (kind.space == JCS_YCCK) {  // Subsample Cb and Cr, as the defaults would, K not.
    cinfo.comp_info[3].h_samp_factor = kind.h_samp;
    cinfo.comp_info[3].v_samp_factor = kind.v_samp;
  }
  if (kind.progressive) jpeg_simple_progression(&cinfo);
  cinfo.restart_in_rows = kind.restart_rows;
  jpeg_start_compress(&cinfo, TRUE);
  std::vector<uint8_t> row(static_cast<size_t>(width) * components);
  while (cinfo.next_scanline < cinfo.image_height) {
    const uint8_t* src = &rgb[static_cast<size_t>(cinfo.next_scanline) * width * 3];
    for (int x = 0; x < width; ++x) {
      const uint8_t* p = src + 3 * x;
      uint8_t* q = &row[static_cast<size_t>(x) * components];
      if (components == 1) {
        q[0] = static_cast<uint8_t>((p[0] * 299 + p[1] * 587 + p[2] * 114 + 500) / 1000);
      } else {
        q[0] = p[0];
        q[1] = p[1];
        q[2] = p[2];
        if (components == 4) q[3] = static_cast<uint8_t>(160 + p[1] / 3);  // As smooth as G.
      }
    }
    JSAMPROW rows[1] = {row.data()};
    jpeg_write_scanlines(&cinfo, rows, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::string out(reinterpret_cast<char*>(buffer), size);
  std::free(buffer);
  return out;
}

const JpegKind kKinds[] = {
    {"ycc444", JCS_YCbCr, 1, 1},
    {"ycc422", JCS_YCbCr, 2, 1},
    {"ycc420", JCS_YCbCr, 2, 2},
    {"ycc440", JCS_YCbCr, 1, 2},
    {"ycc411", JCS_YCbCr, 4, 1},
    {"ycc410", JCS_YCbCr, 4, 2},
    {"ycc420_progressive", JCS_YCbCr, 2, 2, true},
    {"ycc422_progressive", JCS_YCbCr, 2, 1, true},
    {"ycc420_restarts", JCS_YCbCr, 2, 2, false, 1},
    {"ycc420_progressive_restarts", JCS_YCbCr, 2, 2, true, 2},
    {"gray", JCS_GRAYSCALE},
    {"gray_progressive", JCS_GRAYSCALE, 1, 1, true},
    {"rgb", JCS_RGB},
    {"cmyk", JCS_CMYK},
    {"cmyk_progressive", JCS_CMYK, 1, 1, true},
    {"ycck420", JCS_YCCK, 2, 2},
};

Image Crop(const Image& image, const ImageRegion& r) {
  Image out(r.width, r.height);
  for (int y = 0; y < r.height; ++y) {
    std::copy_n(image.Row(r.y + y) + static_cast<size_t>(r.x) * 3, out.RowBytes(), out.Row(y));
  }
  return out;
}

std::string Describe(const ImageRegion& r) {
  return absl::StrCat(r.width, "x", r.height, " at (", r.x, ", ", r.y, ")");
}

// Regions that exercise edges, corners, single pixels, rows and columns, iMCU boundaries
// (multiples of 8, 16 and 32) and offsets just off them, plus random ones.
std::vector<ImageRegion> RegionsFor(int width, int height, int random_count, uint32_t seed) {
  std::vector<ImageRegion> regions = {
      {0, 0, width, height},           {0, 0, 1, 1},
      {width - 1, 0, 1, 1},            {0, height - 1, 1, 1},
      {width - 1, height - 1, 1, 1},   {0, 0, width, 1},
      {0, height - 1, width, 1},       {0, 0, 1, height},
      {width - 1, 0, 1, height},       {width / 2, height / 2, 1, 1},
      {1, 1, width - 2, height - 2},   {width - 9, height - 9, 9, 9},
  };
  for (const int a : {7, 8, 9, 15, 16, 17, 31, 32, 33}) {
    if (a < width && a < height) {
      regions.push_back({a, a, width - a, height - a});
      regions.push_back({a, 0, std::min(5, width - a), height});
      regions.push_back({0, a, width, std::min(3, height - a)});
      regions.push_back({a - 1, a - 1, 2, 2});
    }
  }
  // Some of the fixed ones do not fit a small image.
  regions.erase(std::remove_if(regions.begin(), regions.end(),
                               [&](const ImageRegion& r) {
                                 return r.x < 0 || r.y < 0 || r.width <= 0 || r.height <= 0 ||
                                        r.x + r.width > width || r.y + r.height > height;
                               }),
                regions.end());
  std::mt19937 rng(seed);
  for (int i = 0; i < random_count; ++i) {
    ImageRegion r;
    r.width = 1 + static_cast<int>(rng() % width);
    r.height = 1 + static_cast<int>(rng() % height);
    r.x = static_cast<int>(rng() % (width - r.width + 1));
    r.y = static_cast<int>(rng() % (height - r.height + 1));
    regions.push_back(r);
  }
  return regions;
}

TEST(RegionScaleEighthsTest, SmallestScaleThatCoversTheMinimum) {
  EXPECT_EQ(RegionScaleEighths(448, 448, 224, 224), 4);
  EXPECT_EQ(RegionScaleEighths(447, 448, 224, 224), 5);  // 4/8 would give 223.5 columns.
  EXPECT_EQ(RegionScaleEighths(1792, 1792, 224, 224), 1);
  EXPECT_EQ(RegionScaleEighths(5000, 300, 224, 224), 6);  // The height decides.
  EXPECT_EQ(RegionScaleEighths(300, 300, 224, 224), 6);   // 225 >= 224.
  EXPECT_EQ(RegionScaleEighths(256, 256, 224, 224), 7);
  EXPECT_EQ(RegionScaleEighths(224, 224, 224, 224), 8);
  EXPECT_EQ(RegionScaleEighths(100, 100, 224, 224), 8);  // Too small even at full size.
  EXPECT_EQ(RegionScaleEighths(100, 100, 0, 0), 1);
}

TEST(RegionScaleEighthsTest, OnlyFromTheAllowedScales) {
  // 1/8, 2/8, 4/8, 8/8: what 3/8, 5/8, 6/8 and 7/8 would cover goes to the next one up.
  EXPECT_EQ(RegionScaleEighths(300, 300, 224, 224, kSimdRegionScales), 8);   // Not 6.
  EXPECT_EQ(RegionScaleEighths(600, 600, 224, 224, kSimdRegionScales), 4);   // Not 3.
  EXPECT_EQ(RegionScaleEighths(1000, 900, 224, 224, kSimdRegionScales), 2);
  EXPECT_EQ(RegionScaleEighths(1792, 1792, 224, 224, kSimdRegionScales), 1);
  EXPECT_EQ(RegionScaleEighths(100, 100, 224, 224, kSimdRegionScales), 8);
  EXPECT_EQ(RegionScaleEighths(300, 300, 224, 224, 0), 8);  // 8/8 is always allowed.
  EXPECT_EQ(RegionScaleEighths(300, 300, 224, 224, 1 << 6), 7);
}

TEST(DecodeRegionTest, UsesOnlyTheAllowedScales) {
  const std::string jpeg = EncodeKind(kKinds[2], Textured(640, 480), 640, 480);
  DecodeOptions options;
  options.region_scales = kSimdRegionScales;
  // 6/8 would do (450 x 300 -> 337 x 225); 8/8 is the next allowed.
  absl::StatusOr<Image> region = DecodeRegion(jpeg, {40, 80, 450, 300}, 224, 224, options);
  ASSERT_TRUE(region.ok()) << region.status();
  EXPECT_EQ(region->width, 450);
  EXPECT_EQ(region->height, 300);
  // By default 6/8 is used.
  region = DecodeRegion(jpeg, {40, 80, 450, 300}, 224, 224);
  ASSERT_TRUE(region.ok()) << region.status();
  EXPECT_EQ(region->width, 368 - 30);  // round(490 * 6 / 8) - round(40 * 6 / 8)
  EXPECT_EQ(region->height, 285 - 60);
}

// ---------------------------------------------------------------------------------------
// Full scale: exactly DecodeImage's pixels.

class FullScaleTest : public ::testing::TestWithParam<JpegKind> {};

TEST_P(FullScaleTest, EqualsDecodeImageCropped) {
  const JpegKind& kind = GetParam();
  // Sizes not multiples of any iMCU (8..32 px), one smaller than an iMCU in height.
  for (const auto& [width, height] : {std::pair{61, 45}, std::pair{100, 37}, std::pair{70, 6}}) {
    const std::string jpeg = EncodeKind(kind, Textured(width, height), width, height);
    absl::StatusOr<Image> full = DecodeImage(jpeg);
    ASSERT_TRUE(full.ok()) << full.status();
    for (const ImageRegion& r : RegionsFor(width, height, 150, width * 1000 + height)) {
      // Asking for the region's own size forces the full scale.
      absl::StatusOr<Image> region = DecodeRegion(jpeg, r, r.width, r.height);
      ASSERT_TRUE(region.ok()) << kind.name << " " << Describe(r) << ": " << region.status();
      ASSERT_EQ(region->width, r.width) << kind.name << " " << Describe(r);
      ASSERT_EQ(region->height, r.height) << kind.name << " " << Describe(r);
      ASSERT_EQ(region->pixels, Crop(*full, r).pixels)
          << kind.name << " " << width << "x" << height << ", region " << Describe(r);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllKinds, FullScaleTest, ::testing::ValuesIn(kKinds),
                         [](const ::testing::TestParamInfo<JpegKind>& info) {
                           return std::string(info.param.name);
                         });

TEST(DecodeRegionTest, EveryRegionOfTheCheckedInFixtures) {
  // Every one of the 10098 regions of each 17x11 Pillow fixture.
  for (const char* name :
       {"rgb420_17x11.jpg", "rgb422_17x11.jpg", "rgb444_17x11.jpg", "progressive420_17x11.jpg",
        "gray_17x11.jpg", "cmyk_adobe_17x11.jpg", "cmyk_noadobe_17x11.jpg"}) {
    const std::string jpeg = ReadTestdata(name);
    absl::StatusOr<Image> full = DecodeImage(jpeg);
    ASSERT_TRUE(full.ok()) << name << ": " << full.status();
    for (int h = 1; h <= full->height; ++h) {
      for (int w = 1; w <= full->width; ++w) {
        for (int y = 0; y + h <= full->height; ++y) {
          for (int x = 0; x + w <= full->width; ++x) {
            const ImageRegion r{x, y, w, h};
            absl::StatusOr<Image> region = DecodeRegion(jpeg, r, w, h);
            ASSERT_TRUE(region.ok()) << name << " " << Describe(r) << ": " << region.status();
            ASSERT_EQ(region->pixels, Crop(*full, r).pixels) << name << " " << Describe(r);
          }
        }
      }
    }
  }
}

TEST(DecodeRegionTest, PngIsCroppedNeverScaled) {
  constexpr int kWidth = 37, kHeight = 23;
  for (const int channels : {1, 3, 4}) {
    std::vector<uint8_t> pixels(static_cast<size_t>(kWidth) * kHeight * channels);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 7 + i / 5);
    const std::string png = testdata::EncodePng(pixels.data(), kWidth, kHeight, channels);
    absl::StatusOr<Image> full = DecodeImage(png);
    ASSERT_TRUE(full.ok()) << full.status();
    for (const ImageRegion& r : RegionsFor(kWidth, kHeight, 30, channels)) {
      absl::StatusOr<Image> region = DecodeRegion(png, r, 1, 1);  // Would allow 1/8 scale.
      ASSERT_TRUE(region.ok()) << Describe(r) << ": " << region.status();
      ASSERT_EQ(region->pixels, Crop(*full, r).pixels) << "channels " << channels << " "
                                                       << Describe(r);
    }
  }
  // A PNG saved under a JPEG name (ImageNet has one): format comes from the content.
  const std::string interlaced = ReadTestdata("interlaced_rgb_5x3.png");
  absl::StatusOr<Image> full = DecodeImage(interlaced);
  absl::StatusOr<Image> region = DecodeRegion(interlaced, {1, 1, 3, 2}, 3, 2);
  ASSERT_TRUE(full.ok() && region.ok());
  EXPECT_EQ(region->pixels, Crop(*full, {1, 1, 3, 2}).pixels);
}

// ---------------------------------------------------------------------------------------
// Reduced scales.

// Mean and maximum |a - b| over all bytes.
std::pair<double, int> Difference(const Image& a, const Image& b) {
  EXPECT_EQ(a.width, b.width);
  EXPECT_EQ(a.height, b.height);
  double sum = 0;
  int max = 0;
  for (size_t i = 0; i < std::min(a.pixels.size(), b.pixels.size()); ++i) {
    const int d = std::abs(a.pixels[i] - b.pixels[i]);
    sum += d;
    max = std::max(max, d);
  }
  return {a.pixels.empty() ? 0 : sum / a.pixels.size(), max};
}

TEST(DecodeRegionTest, ReducedScaleIsCloseToAResizedCrop) {
  constexpr int kWidth = 500, kHeight = 375;
  const std::vector<uint8_t> rgb = Smooth(kWidth, kHeight);
  for (const JpegKind& kind : {kKinds[2], kKinds[6], kKinds[10], kKinds[13]}) {
    const std::string jpeg = EncodeKind(kind, rgb, kWidth, kHeight, 95);
    absl::StatusOr<Image> full = DecodeImage(jpeg);
    ASSERT_TRUE(full.ok()) << full.status();
    std::mt19937 rng(3);
    for (int k = 1; k <= 7; ++k) {
      for (int i = 0; i < 6; ++i) {
        ImageRegion r;
        r.width = 120 + static_cast<int>(rng() % (kWidth - 120));
        r.height = 120 + static_cast<int>(rng() % (kHeight - 120));
        r.x = static_cast<int>(rng() % (kWidth - r.width + 1));
        r.y = static_cast<int>(rng() % (kHeight - r.height + 1));
        // A minimum of floor(size * k / 8) selects scale k (regions here are >= 120 px).
        const int min_width = r.width * k / 8, min_height = r.height * k / 8;
        ASSERT_EQ(RegionScaleEighths(r.width, r.height, min_width, min_height), k);
        absl::StatusOr<Image> region = DecodeRegion(jpeg, r, min_width, min_height);
        ASSERT_TRUE(region.ok()) << region.status();
        const std::string what = absl::StrCat(kind.name, " k=", k, " ", Describe(r));
        // The scaled region: its edges rounded to nearest.
        const auto scaled = [k](int v) { return (v * k + 4) / 8; };
        EXPECT_EQ(region->width, scaled(r.x + r.width) - scaled(r.x)) << what;
        EXPECT_EQ(region->height, scaled(r.y + r.height) - scaled(r.y)) << what;
        EXPECT_GE(region->width, min_width) << what;
        EXPECT_GE(region->height, min_height) << what;
        // Same grid: the whole image resized to libjpeg's scaled size, ceil(size * k / 8),
        // cropped to the scaled region. What remains is the filters' difference: libjpeg's
        // scaled IDCT keeps the block's low frequencies, Pillow filters with a triangle.
        const auto scaled_size = [k](int v) { return (v * k + 7) / 8; };
        const Image reference =
            Crop(Resize(*full, scaled_size(kWidth), scaled_size(kHeight)),
                 {scaled(r.x), scaled(r.y), region->width, region->height});
        const auto [mean, max] = Difference(*region, reference);
        // At 1/8 the scaled IDCT is the block's DC alone, an 8x8 box average, where Pillow's
        // triangle spans 16 pixels: the widest gap. Observed on this content: mean <= 5.3,
        // max <= 20 at k = 1; mean <= 1.7, max <= 11 at k >= 2.
        EXPECT_LT(mean, k == 1 ? 6.0 : 2.0) << what;
        EXPECT_LE(max, k == 1 ? 24 : 12) << what;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Errors.

TEST(DecodeRegionErrorsTest, BadRegions) {
  const std::string jpeg = EncodeKind(kKinds[2], Textured(40, 30), 40, 30);
  const std::string png = testdata::EncodePng(Textured(40, 30).data(), 40, 30, 3);
  for (const std::string* bytes : {&jpeg, &png}) {
    for (const ImageRegion& r : std::vector<ImageRegion>{{0, 0, 0, 5},
                                                         {0, 0, 5, 0},
                                                         {-1, 0, 5, 5},
                                                         {0, -1, 5, 5},
                                                         {36, 0, 5, 5},
                                                         {0, 26, 5, 5},
                                                         {0, 0, 41, 30},
                                                         {1, 1, 2147483647, 2147483647}}) {
      absl::StatusOr<Image> region = DecodeRegion(*bytes, r, 1, 1);
      EXPECT_EQ(region.status().code(), absl::StatusCode::kInvalidArgument) << Describe(r);
      EXPECT_THAT(std::string(region.status().message()), HasSubstr("not inside the 40x30 image"))
          << Describe(r);
    }
  }
}

TEST(DecodeRegionErrorsTest, SameErrorsAsDecodeImage) {
  EXPECT_EQ(DecodeRegion("", {0, 0, 1, 1}, 1, 1).status(), DecodeImage("").status());
  EXPECT_EQ(DecodeRegion("<html>", {0, 0, 1, 1}, 1, 1).status(), DecodeImage("<html>").status());
  const std::string jpeg = EncodeKind(kKinds[2], Textured(40, 30), 40, 30);
  DecodeOptions small;
  small.max_pixels = 40 * 30 - 1;
  EXPECT_EQ(DecodeRegion(jpeg, {0, 0, 1, 1}, 1, 1, small).status(),
            DecodeImage(jpeg, small).status());
  EXPECT_THAT(std::string(DecodeRegion(jpeg, {0, 0, 1, 1}, 1, 1, small).status().message()),
              HasSubstr("more than the limit"));
  // Corrupt: lossless SOF3, which libjpeg-turbo does not decode.
  std::string sof3 = jpeg;
  const size_t sof = sof3.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  sof3[sof + 1] = '\xC3';
  EXPECT_EQ(DecodeRegion(sof3, {0, 0, 1, 1}, 1, 1).status(), DecodeImage(sof3).status());
}

TEST(DecodeRegionErrorsTest, TruncatedDataTheRegionNeedsIsAnError) {
  constexpr int kWidth = 64, kHeight = 48;
  for (const JpegKind& kind : {kKinds[2], kKinds[6], kKinds[13]}) {
    const std::string jpeg = EncodeKind(kind, Textured(kWidth, kHeight), kWidth, kHeight);
    absl::StatusOr<Image> full = DecodeImage(jpeg);
    ASSERT_TRUE(full.ok()) << full.status();
    const std::vector<ImageRegion> regions = {
        {0, 0, kWidth, kHeight}, {0, 0, 10, 10}, {50, 40, 14, 8}, {20, 16, 8, 8}};
    for (const ImageRegion& r : regions) {
      for (size_t size = 0; size < jpeg.size(); ++size) {
        const std::string what = absl::StrCat(kind.name, " ", Describe(r), " cut at ", size,
                                              " of ", jpeg.size());
        absl::StatusOr<Image> region = DecodeRegion(jpeg.substr(0, size), r, r.width, r.height);
        if (region.ok()) {
          // Only a baseline file may be cut after the region's data; then it is exact.
          ASSERT_FALSE(kind.progressive) << what;
          ASSERT_EQ(region->pixels, Crop(*full, r).pixels) << what;
          continue;
        }
        ASSERT_EQ(region.status().code(), absl::StatusCode::kInvalidArgument) << what;
        if (size >= 3) {
          ASSERT_THAT(std::string(region.status().message()), HasSubstr("truncated JPEG"))
              << what;
        }
      }
    }
    // The bottom rows are the last data of a baseline file: any cut loses them.
    for (size_t size = 0; size + 2 < jpeg.size(); ++size) {
      EXPECT_FALSE(DecodeRegion(jpeg.substr(0, size), {0, kHeight - 1, kWidth, 1}, 1, 1).ok())
          << kind.name << " cut at " << size;
    }
    if (!kind.progressive) {
      // A region at the top needs only the start of the data.
      absl::StatusOr<Image> top =
          DecodeRegion(jpeg.substr(0, jpeg.size() * 3 / 4), {0, 0, kWidth, 8}, kWidth, 8);
      ASSERT_TRUE(top.ok()) << kind.name << ": " << top.status();
      EXPECT_EQ(top->pixels, Crop(*full, {0, 0, kWidth, 8}).pixels) << kind.name;
    }
  }
}

TEST(DecodeRegionFuzzTest, MutatedImagesFailCleanly) {
  const std::vector<std::string> seeds = {
      EncodeKind(kKinds[2], Textured(64, 48), 64, 48),
      EncodeKind(kKinds[6], Textured(64, 48), 64, 48),
      EncodeKind(kKinds[9], Textured(64, 48), 64, 48),
      EncodeKind(kKinds[10], Textured(64, 48), 64, 48),
      EncodeKind(kKinds[13], Textured(64, 48), 64, 48),
      EncodeKind(kKinds[15], Textured(64, 48), 64, 48),
      testdata::EncodePng(Textured(64, 48).data(), 64, 48, 3),
  };
  std::mt19937 rng(11);
  for (size_t s = 0; s < seeds.size(); ++s) {
    for (int i = 0; i < 600; ++i) {
      std::string bytes = seeds[s];
      const int flips = 1 + rng() % 4;
      for (int f = 0; f < flips; ++f) {
        const size_t limit = (rng() % 2 == 0) ? std::min<size_t>(bytes.size(), 400) : bytes.size();
        bytes[rng() % limit] = static_cast<char>(rng());
      }
      // Random regions and scales, some outside whatever size the mutated header claims.
      ImageRegion r;
      r.x = static_cast<int>(rng() % 64);
      r.y = static_cast<int>(rng() % 48);
      r.width = 1 + static_cast<int>(rng() % (64 - r.x));
      r.height = 1 + static_cast<int>(rng() % (48 - r.y));
      const int min_size = static_cast<int>(rng() % 64);
      absl::StatusOr<Image> region = DecodeRegion(bytes, r, min_size, min_size);
      const std::string what = absl::StrCat("seed ", s, " mutation ", i, " ", Describe(r));
      if (region.ok()) {
        ASSERT_GT(region->width, 0) << what;
        ASSERT_GT(region->height, 0) << what;
        ASSERT_LE(region->width, r.width) << what;
        ASSERT_LE(region->height, r.height) << what;
        ASSERT_EQ(region->pixels.size(), region->RowBytes() * region->height) << what;
      } else {
        ASSERT_EQ(region.status().code(), absl::StatusCode::kInvalidArgument)
            << what << ": " << region.status();
      }
    }
  }
}

}  // namespace
}  // namespace forge
