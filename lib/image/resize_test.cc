// Tests for Resize, ResizeShorterSide and CenterCrop: hand-computed cases, invariants, and
// bit-exact agreement (tolerance 0) with Pillow's resize(BILINEAR) and torchvision's
// Resize/CenterCrop on synthetic images (goldens from testdata/make_golden.py).
#include "lib/image/resize.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "lib/image/golden.h"
#include "lib/image/image.h"

namespace forge {
namespace {

using ::forge::image_testing::PixelsMatchGolden;
using ::forge::image_testing::ReadGoldenLines;

// The synthetic images of make_golden.py's pattern(), byte for byte.
Image Pattern(const std::string& kind, int width, int height) {
  if (kind == "noise") return image_testing::NoiseImage(width, height);
  Image image(width, height);
  if (kind == "ramp") {
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        for (int c = 0; c < 3; ++c) image.Row(y)[x * 3 + c] = (x * 7 + y * 13 + c * 50) % 256;
      }
    }
  } else {
    ADD_FAILURE() << "unknown pattern " << kind;
  }
  return image;
}

// A one-row image from gray levels (R = G = B).
Image GrayRow(const std::vector<int>& values) {
  Image image(static_cast<int>(values.size()), 1);
  for (size_t i = 0; i < values.size(); ++i) {
    for (int c = 0; c < 3; ++c) image.pixels[i * 3 + c] = static_cast<uint8_t>(values[i]);
  }
  return image;
}

// A one-column image from gray levels.
Image GrayColumn(const std::vector<int>& values) {
  Image image(1, static_cast<int>(values.size()));
  for (size_t i = 0; i < values.size(); ++i) {
    for (int c = 0; c < 3; ++c) image.pixels[i * 3 + c] = static_cast<uint8_t>(values[i]);
  }
  return image;
}

// The red channel, for comparing small hand-computed cases.
std::vector<int> Red(const Image& image) {
  std::vector<int> red;
  for (size_t i = 0; i < image.pixels.size(); i += 3) red.push_back(image.pixels[i]);
  return red;
}

// An image whose pixel (x, y) is (x, y, 7) for telling positions apart after a crop.
Image Coordinates(int width, int height) {
  Image image(width, height);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      image.Row(y)[x * 3 + 0] = static_cast<uint8_t>(x);
      image.Row(y)[x * 3 + 1] = static_cast<uint8_t>(y);
      image.Row(y)[x * 3 + 2] = 7;
    }
  }
  return image;
}

// ---------------------------------------------------------------------------------------
// Resize.

TEST(ResizeTest, SameSizeIsACopy) {
  const Image in = Pattern("noise", 13, 9);
  const Image out = Resize(in, 13, 9);
  EXPECT_EQ(out.width, 13);
  EXPECT_EQ(out.height, 9);
  EXPECT_EQ(out.pixels, in.pixels);
}

TEST(ResizeTest, HandComputedDownscaleByTwo) {
  // 2 -> 1: scale 2, support 2, both inputs weigh 1/2 (2^21 in fixed point each), so the
  // output is (a + b + 1) / 2 rounded down: halves round up.
  EXPECT_EQ(Red(Resize(GrayRow({10, 13}), 1, 1)), std::vector<int>({12}));
  EXPECT_EQ(Red(Resize(GrayRow({0, 255}), 1, 1)), std::vector<int>({128}));
  EXPECT_EQ(Red(Resize(GrayColumn({10, 13}), 1, 1)), std::vector<int>({12}));
}

TEST(ResizeTest, HandComputedUpscale) {
  // 2 -> 4: scale 1/2, centres at 0.25, 0.75, 1.25, 1.75; triangle weights
  // {1}, {3/4, 1/4}, {1/4, 3/4}, {1}: 0, 25, 75, 100.
  EXPECT_EQ(Red(Resize(GrayRow({0, 100}), 4, 1)), std::vector<int>({0, 25, 75, 100}));
  EXPECT_EQ(Red(Resize(GrayColumn({0, 100}), 1, 4)), std::vector<int>({0, 25, 75, 100}));
}

TEST(ResizeTest, HandComputedDownscaleByOneAndAHalf) {
  // 3 -> 2: scale 1.5, support 1.5. Output 0 (centre 0.75) reads inputs 0 and 1 with
  // triangle weights 5/6 and 1/2, normalised 5/8 and 3/8: 30 * 3/8 = 11.25 -> 11.
  // Output 1 (centre 2.25) reads inputs 1 and 2 with 3/8 and 5/8: 11.25 + 37.5 -> 49.
  EXPECT_EQ(Red(Resize(GrayRow({0, 30, 60}), 2, 1)), std::vector<int>({11, 49}));
  EXPECT_EQ(Red(Resize(GrayColumn({0, 30, 60}), 1, 2)), std::vector<int>({11, 49}));
}

TEST(ResizeTest, ConstantImageStaysConstant) {
  // Fixed-point weights sum to 2^22 give or take a few units, which never moves a constant.
  for (const int value : {0, 1, 127, 254, 255}) {
    Image in(23, 17);
    std::fill(in.pixels.begin(), in.pixels.end(), static_cast<uint8_t>(value));
    for (const auto& [w, h] :
         std::vector<std::pair<int, int>>{{1, 1}, {7, 5}, {22, 17}, {23, 3}, {50, 41}, {3, 90}}) {
      const Image out = Resize(in, w, h);
      ASSERT_EQ(out.width, w);
      ASSERT_EQ(out.height, h);
      for (const uint8_t byte : out.pixels) ASSERT_EQ(byte, value) << w << "x" << h;
    }
  }
}

TEST(ResizeTest, SinglePixelSpreadsEverywhere) {
  Image in(1, 1);
  in.pixels = {10, 200, 77};
  const Image out = Resize(in, 4, 3);
  for (size_t i = 0; i < out.pixels.size(); i += 3) {
    EXPECT_EQ(out.pixels[i], 10);
    EXPECT_EQ(out.pixels[i + 1], 200);
    EXPECT_EQ(out.pixels[i + 2], 77);
  }
}

TEST(ResizeTest, ChannelsAreIndependent) {
  Image in = Pattern("noise", 11, 7);
  for (size_t i = 0; i < in.pixels.size(); ++i) {
    if (i % 3 != 0) in.pixels[i] = 0;  // Only red.
  }
  const Image out = Resize(in, 6, 13);
  bool any_red = false;
  for (size_t i = 0; i < out.pixels.size(); ++i) {
    if (i % 3 == 0) {
      any_red |= out.pixels[i] != 0;
    } else {
      ASSERT_EQ(out.pixels[i], 0) << "byte " << i;
    }
  }
  EXPECT_TRUE(any_red);
}

TEST(ResizeTest, OutputStaysWithinInputRange) {
  // Bilinear weights are non-negative: no overshoot.
  const Image in = Pattern("ramp", 31, 29);
  for (const auto& [w, h] :
       std::vector<std::pair<int, int>>{{5, 3}, {62, 58}, {17, 70}, {100, 11}}) {
    const Image out = Resize(in, w, h);
    const auto [in_min, in_max] = std::minmax_element(in.pixels.begin(), in.pixels.end());
    for (const uint8_t byte : out.pixels) {
      ASSERT_GE(byte, *in_min);
      ASSERT_LE(byte, *in_max);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Pillow / torchvision goldens: resize, shorter-side resize and centre crop of synthetic
// images, bit-exact.

// Both the SIMD (AVX2, where the CPU has it) and the scalar code paths.
class PillowGoldenTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { SetResizeSimdForTesting(GetParam()); }
  void TearDown() override { SetResizeSimdForTesting(true); }
};

TEST_P(PillowGoldenTest, AllCasesMatchExactly) {
  const std::vector<std::vector<std::string>> lines = ReadGoldenLines("resize_golden.txt");
  ASSERT_GE(lines.size(), 80u);  // 85 when written.
  int resized = 0, shorter = 0, cropped = 0;
  for (const std::vector<std::string>& line : lines) {
    ASSERT_GE(line.size(), 9u) << absl::StrJoin(line, " ");
    SCOPED_TRACE(absl::StrJoin(line.begin(), line.begin() + 8, " "));
    const std::string& op = line[0];
    const Image in = Pattern(line[1], std::stoi(line[2]), std::stoi(line[3]));
    const int arg_width = std::stoi(line[4]);
    const int arg_height = std::stoi(line[5]);
    Image out;
    if (op == "resize") {
      out = Resize(in, arg_width, arg_height);
      ++resized;
    } else if (op == "shorter") {
      out = ResizeShorterSide(in, arg_width).value();
      ++shorter;
    } else if (op == "crop") {
      out = CenterCrop(in, arg_width, arg_height);
      ++cropped;
    } else {
      ADD_FAILURE() << "unknown op " << op;
      continue;
    }
    EXPECT_EQ(out.width, std::stoi(line[6]));
    EXPECT_EQ(out.height, std::stoi(line[7]));
    std::string golden = line[8];
    for (size_t i = 9; i < line.size(); ++i) absl::StrAppend(&golden, " ", line[i]);
    EXPECT_TRUE(PixelsMatchGolden(out, golden));
  }
  EXPECT_GE(resized, 60);
  EXPECT_GE(shorter, 5);
  EXPECT_GE(cropped, 5);
}

INSTANTIATE_TEST_SUITE_P(SimdAndScalar, PillowGoldenTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Simd" : "Scalar";
                         });

// ---------------------------------------------------------------------------------------
// ResizeInto: the SIMD path against the scalar one, mirroring, and nothing written outside
// the output.

Image Mirrored(const Image& image) {
  Image out(image.width, image.height);
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      std::memcpy(out.Row(y) + 3 * x, image.Row(y) + 3 * (image.width - 1 - x), 3);
    }
  }
  return out;
}

TEST(ResizeIntoTest, SimdEqualsScalarAndMirrorsExactly) {
  // Sizes around every window length (upscaling: 2 taps; downscaling by s: about 2s + 1),
  // both pass orders, odd and even widths, widths 1 to 3.
  std::vector<std::pair<int, int>> sizes = {{1, 1}, {2, 1}, {3, 2}, {1, 7}, {5, 1}, {224, 224}};
  uint32_t state = 7;
  const auto next = [&state](int bound) {
    state = state * 1103515245u + 12345u;
    return static_cast<int>((state >> 8) % bound);
  };
  for (int i = 0; i < 60; ++i) sizes.push_back({1 + next(400), 1 + next(300)});
  for (const auto& [in_width, in_height] : sizes) {
    const Image in = Pattern("noise", in_width, in_height);
    for (const auto& [out_width, out_height] :
         std::vector<std::pair<int, int>>{{224, 224}, {1, 1}, {2, 3}, {in_width, 50},
                                          {37, in_height}, {1 + next(500), 1 + next(500)}}) {
      SCOPED_TRACE(absl::StrCat(in_width, "x", in_height, " -> ", out_width, "x", out_height));
      SetResizeSimdForTesting(false);
      const Image scalar = Resize(in, out_width, out_height);
      SetResizeSimdForTesting(true);
      const Image simd = Resize(in, out_width, out_height);
      ASSERT_EQ(simd.pixels, scalar.pixels);
      // Into a buffer with guard bytes on both sides, mirrored and not.
      const size_t bytes = static_cast<size_t>(out_width) * out_height * 3;
      for (const bool mirror : {false, true}) {
        std::vector<uint8_t> buffer(bytes + 64, 0xC3);
        ResizeInto(in, out_width, out_height, mirror, buffer.data() + 32);
        for (int g = 0; g < 32; ++g) {
          ASSERT_EQ(buffer[g], 0xC3) << "mirror " << mirror;
          ASSERT_EQ(buffer[bytes + 32 + g], 0xC3) << "mirror " << mirror;
        }
        const std::vector<uint8_t> got(buffer.begin() + 32, buffer.end() - 32);
        ASSERT_EQ(got, mirror ? Mirrored(scalar).pixels : scalar.pixels) << "mirror " << mirror;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// ResizeShorterSide.

TEST(ResizeShorterSideTest, Landscape) {
  const Image out = ResizeShorterSide(Pattern("noise", 500, 375), 256).value();
  EXPECT_EQ(out.width, 341);  // int(256 * 500 / 375) = int(341.33)
  EXPECT_EQ(out.height, 256);
}

TEST(ResizeShorterSideTest, Portrait) {
  const Image out = ResizeShorterSide(Pattern("noise", 333, 500), 256).value();
  EXPECT_EQ(out.width, 256);
  EXPECT_EQ(out.height, 384);  // int(256 * 500 / 333) = int(384.38)
}

TEST(ResizeShorterSideTest, SquareAndExactQuotients) {
  Image out = ResizeShorterSide(Pattern("ramp", 40, 40), 16).value();
  EXPECT_EQ(out.width, 16);
  EXPECT_EQ(out.height, 16);
  out = ResizeShorterSide(Pattern("ramp", 30, 100), 3).value();
  EXPECT_EQ(out.width, 3);
  EXPECT_EQ(out.height, 10);  // 3 * 100 / 30 is exactly 10.0.
  out = ResizeShorterSide(Pattern("ramp", 7, 3), 2).value();
  EXPECT_EQ(out.width, 4);  // int(4.67): truncated, not rounded.
  EXPECT_EQ(out.height, 2);
}

TEST(ResizeShorterSideTest, IsResizeToTheComputedSize) {
  const Image in = Pattern("noise", 61, 47);
  const Image out = ResizeShorterSide(in, 30).value();
  ASSERT_EQ(out.width, 38);  // int(30 * 61 / 47) = int(38.94)
  ASSERT_EQ(out.height, 30);
  EXPECT_EQ(out.pixels, Resize(in, 38, 30).pixels);
}

TEST(ResizeShorterSideTest, AlreadyTheRightSizeIsUnchanged) {
  const Image in = Pattern("noise", 9, 5);
  EXPECT_EQ(ResizeShorterSide(in, 5).value().pixels, in.pixels);
}

// An extreme aspect ratio would ask for gigabytes: refused, not allocated (or crashed on).
TEST(ResizeShorterSideTest, RefusesOutputsBeyondTheBounds) {
  const Image wide(20000, 2);
  absl::StatusOr<Image> out = ResizeShorterSide(wide, 256);  // would be 2560000 x 256
  ASSERT_TRUE(absl::IsInvalidArgument(out.status())) << out.status();
  EXPECT_NE(out.status().message().find("20000x2"), std::string::npos) << out.status();
  EXPECT_NE(out.status().message().find("65500"), std::string::npos) << out.status();
  EXPECT_TRUE(absl::IsInvalidArgument(ResizeShorterSide(Image(2, 20000), 256).status()));
  // Sides within the bound but too many pixels: 60000 x 6000.
  absl::StatusOr<std::pair<int, int>> size = ShorterSideSize(10, 1, 6000);
  ASSERT_TRUE(absl::IsInvalidArgument(size.status())) << size.status();
  EXPECT_NE(size.status().message().find("pixels"), std::string::npos) << size.status();
  // int(size * long / short) beyond int's range.
  EXPECT_TRUE(absl::IsInvalidArgument(ShorterSideSize(2000000000, 1, 2000000000).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ShorterSideSize(0, 5, 256).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ShorterSideSize(5, 5, 0).status()));
}

TEST(ResizeShorterSideTest, OnePixelAndModerateRatiosWork) {
  absl::StatusOr<Image> out = ResizeShorterSide(Pattern("ramp", 1, 1), 256);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->width, 256);
  EXPECT_EQ(out->height, 256);
  EXPECT_EQ(ShorterSideSize(200, 2, 256).value(), std::make_pair(25600, 256));
}

TEST(CheckImageSizeTest, BoundsEachSideAndThePixelCount) {
  EXPECT_TRUE(CheckImageSize(1, 1).ok());
  EXPECT_TRUE(CheckImageSize(kMaxImageSide, 2000).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(CheckImageSize(kMaxImageSide + 1, 1)));
  EXPECT_TRUE(absl::IsInvalidArgument(CheckImageSize(1, kMaxImageSide + 1)));
  EXPECT_TRUE(absl::IsInvalidArgument(CheckImageSize(20000, 20000)));  // 400 M pixels
  EXPECT_TRUE(absl::IsInvalidArgument(CheckImageSize(0, 7)));
}

// ---------------------------------------------------------------------------------------
// CenterCrop.

// The crop's top-left pixel in input coordinates (Coordinates() images).
std::pair<int, int> Origin(const Image& crop) { return {crop.pixels[0], crop.pixels[1]}; }

TEST(CenterCropTest, EvenMarginsSplitEqually) {
  const Image out = CenterCrop(Coordinates(10, 8), 4, 2);
  EXPECT_EQ(out.width, 4);
  EXPECT_EQ(out.height, 2);
  EXPECT_EQ(Origin(out), std::make_pair(3, 3));  // (10 - 4) / 2, (8 - 2) / 2
}

TEST(CenterCropTest, HalvesRoundToEven) {
  // Python's round(): 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, 3.5 -> 4.
  EXPECT_EQ(Origin(CenterCrop(Coordinates(3, 3), 2, 2)), std::make_pair(0, 0));  // 0.5
  EXPECT_EQ(Origin(CenterCrop(Coordinates(5, 5), 2, 2)), std::make_pair(2, 2));  // 1.5
  EXPECT_EQ(Origin(CenterCrop(Coordinates(7, 7), 2, 2)), std::make_pair(2, 2));  // 2.5
  EXPECT_EQ(Origin(CenterCrop(Coordinates(9, 9), 2, 2)), std::make_pair(4, 4));  // 3.5
  EXPECT_EQ(Origin(CenterCrop(Coordinates(7, 4), 2, 1)), std::make_pair(2, 2));  // 2.5, 1.5
  // ImageNet's usual 256 -> 224 has an even margin; 257 -> 224 has 16.5 -> 16.
  EXPECT_EQ(Origin(CenterCrop(Coordinates(256, 257), 224, 224)), std::make_pair(16, 16));
  EXPECT_EQ(Origin(CenterCrop(Coordinates(259, 256), 224, 224)), std::make_pair(18, 16));
}

TEST(CenterCropTest, CopiesTheWindow) {
  const Image in = Coordinates(9, 6);
  const Image out = CenterCrop(in, 4, 3);
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 4; ++x) {
      // Origin (round(2.5), round(1.5)) = (2, 2).
      EXPECT_EQ(out.Row(y)[x * 3 + 0], x + 2);
      EXPECT_EQ(out.Row(y)[x * 3 + 1], y + 2);
      EXPECT_EQ(out.Row(y)[x * 3 + 2], 7);
    }
  }
}

TEST(CenterCropTest, SameSizeIsACopy) {
  const Image in = Pattern("noise", 6, 4);
  EXPECT_EQ(CenterCrop(in, 6, 4).pixels, in.pixels);
}

TEST(CenterCropTest, PadsWithZerosWhenSmaller) {
  // 2x2 into 5x5: torchvision pads (5 - 2) // 2 = 1 before and 2 after on each axis.
  Image in(2, 2);
  std::fill(in.pixels.begin(), in.pixels.end(), 200);
  const Image out = CenterCrop(in, 5, 5);
  ASSERT_EQ(out.width, 5);
  ASSERT_EQ(out.height, 5);
  for (int y = 0; y < 5; ++y) {
    for (int x = 0; x < 5; ++x) {
      const bool inside = x >= 1 && x <= 2 && y >= 1 && y <= 2;
      for (int c = 0; c < 3; ++c) {
        EXPECT_EQ(out.Row(y)[x * 3 + c], inside ? 200 : 0) << "x=" << x << " y=" << y;
      }
    }
  }
}

TEST(CenterCropTest, PadsOneAxisAndCropsTheOther) {
  // Width 3 -> 6: pad 1 left, 2 right. Height 8 -> 3: crop from round(2.5) = 2.
  const Image out = CenterCrop(Coordinates(3, 8), 6, 3);
  ASSERT_EQ(out.width, 6);
  ASSERT_EQ(out.height, 3);
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 6; ++x) {
      const uint8_t* p = out.Row(y) + x * 3;
      if (x >= 1 && x <= 3) {
        EXPECT_EQ(p[0], x - 1);
        EXPECT_EQ(p[1], y + 2);
        EXPECT_EQ(p[2], 7);
      } else {
        EXPECT_EQ(p[0] | p[1] | p[2], 0) << "x=" << x << " y=" << y;
      }
    }
  }
}

TEST(CenterCropTest, ResizeThenCropLikeTheImageNetEvalTransform) {
  // Resize(256) + CenterCrop(224) on a 500x375 image: 341x256, then origin (58.5 -> 58, 16).
  const Image resized = ResizeShorterSide(Pattern("noise", 500, 375), 256).value();
  const Image out = CenterCrop(resized, 224, 224);
  ASSERT_EQ(out.width, 224);
  ASSERT_EQ(out.height, 224);
  EXPECT_EQ(0, std::memcmp(out.Row(0), resized.Row(16) + 58 * 3, 224 * 3));
  EXPECT_EQ(0, std::memcmp(out.Row(223), resized.Row(239) + 58 * 3, 224 * 3));
}

}  // namespace
}  // namespace forge
