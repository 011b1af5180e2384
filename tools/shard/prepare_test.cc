// Tests of PrepareImage and DownscaledSize: which inputs are stored untouched, converted or
// downscaled, and what the stored JPEG looks like.
#include "tools/shard/prepare.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "lib/image/decode.h"
#include "testdata/image_writers.h"

namespace forge {
namespace {

using ::testing::HasSubstr;
using ::testing::Pair;

// A smooth gradient, which JPEG reproduces closely.
std::vector<uint8_t> Pixels(int width, int height) {
  std::vector<uint8_t> rgb(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
      p[0] = static_cast<uint8_t>(20 + 200 * x / width);
      p[1] = static_cast<uint8_t>(30 + 200 * y / height);
      p[2] = static_cast<uint8_t>(100 + 100 * (x + y) / (width + height));
    }
  }
  return rgb;
}

void ExpectYCbCrJpeg(const PreparedImage& prepared, int width, int height) {
  absl::StatusOr<ImageHeader> header = ReadImageHeader(prepared.jpeg);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->format, ImageFormat::kJpeg);
  EXPECT_EQ(header->color_space, ColorSpace::kYCbCr);
  EXPECT_EQ(header->components, 3);
  EXPECT_EQ(header->width, width);
  EXPECT_EQ(header->height, height);
  EXPECT_EQ(prepared.width, width);
  EXPECT_EQ(prepared.height, height);
}

TEST(DownscaledSizeTest, LongerSideBecomesMaxSideAndTheOtherIsRounded) {
  EXPECT_THAT(DownscaledSize(500, 375, 400), Pair(400, 300));
  EXPECT_THAT(DownscaledSize(375, 500, 400), Pair(300, 400));
  EXPECT_THAT(DownscaledSize(333, 500, 256), Pair(170, 256));  // 170.496 rounds down
  EXPECT_THAT(DownscaledSize(3, 2, 2), Pair(2, 1));            // 1.333
  EXPECT_THAT(DownscaledSize(4, 3, 2), Pair(2, 2));            // 1.5 rounds up
  EXPECT_THAT(DownscaledSize(1000, 1, 10), Pair(10, 1));       // 0.01: at least 1
  EXPECT_THAT(DownscaledSize(640, 640, 100), Pair(100, 100));
  EXPECT_THAT(DownscaledSize(400, 300, 400), Pair(400, 300));  // not larger: unchanged
  EXPECT_THAT(DownscaledSize(40, 30, 0), Pair(40, 30));        // 0: never
}

TEST(PrepareImageTest, YCbCrJpegsAreStoredUntouched) {
  const std::vector<uint8_t> rgb = Pixels(40, 24);
  for (bool progressive : {false, true}) {
    const std::string jpeg = testdata::EncodeJpeg(rgb.data(), 40, 24, 75, progressive);
    absl::StatusOr<PreparedImage> prepared = PrepareImage(jpeg, {});
    ASSERT_TRUE(prepared.ok()) << prepared.status();
    EXPECT_EQ(prepared->jpeg, jpeg);
    EXPECT_FALSE(prepared->converted);
    EXPECT_FALSE(prepared->reencoded);
    EXPECT_EQ(prepared->width, 40);
    EXPECT_EQ(prepared->height, 24);
    // With a max_side it already fits: still untouched.
    prepared = PrepareImage(jpeg, {.max_side = 40});
    ASSERT_TRUE(prepared.ok()) << prepared.status();
    EXPECT_EQ(prepared->jpeg, jpeg);
  }
}

TEST(PrepareImageTest, OtherKindsAreConvertedToYCbCrJpeg) {
  const std::vector<uint8_t> rgb = Pixels(17, 11);
  std::vector<uint8_t> gray(17 * 11);
  for (size_t i = 0; i < gray.size(); ++i) gray[i] = rgb[3 * i];
  const std::vector<std::pair<std::string, std::string>> inputs = {
      {"cmyk", testdata::EncodeCmykJpeg(rgb.data(), 17, 11, 90)},
      {"gray", testdata::EncodeGrayJpeg(gray.data(), 17, 11, 90)},
      {"png", testdata::EncodePng(rgb.data(), 17, 11, 3)},
      {"gray png", testdata::EncodePng(gray.data(), 17, 11, 1)},
  };
  for (const auto& [name, bytes] : inputs) {
    absl::StatusOr<PreparedImage> prepared = PrepareImage(bytes, {.quality = 95});
    ASSERT_TRUE(prepared.ok()) << name << ": " << prepared.status();
    EXPECT_TRUE(prepared->converted) << name;
    EXPECT_FALSE(prepared->reencoded) << name;
    ExpectYCbCrJpeg(*prepared, 17, 11);
    // The pixels survive within JPEG's loss: mean absolute error below 3 at quality 95.
    absl::StatusOr<Image> original = DecodeImage(bytes);
    absl::StatusOr<Image> stored = DecodeImage(prepared->jpeg);
    ASSERT_TRUE(original.ok() && stored.ok()) << name;
    double sum = 0;
    for (size_t i = 0; i < original->pixels.size(); ++i) {
      sum += std::abs(int(original->pixels[i]) - int(stored->pixels[i]));
    }
    EXPECT_LT(sum / original->pixels.size(), 3) << name;
  }
}

TEST(PrepareImageTest, LargeImagesAreDownscaled) {
  const std::vector<uint8_t> rgb = Pixels(120, 60);
  const std::string jpeg = testdata::EncodeJpeg(rgb.data(), 120, 60, 90);
  absl::StatusOr<PreparedImage> prepared = PrepareImage(jpeg, {.max_side = 50});
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  EXPECT_TRUE(prepared->reencoded);
  EXPECT_FALSE(prepared->converted);
  ExpectYCbCrJpeg(*prepared, 50, 25);

  // A CMYK image that is also too large counts as both.
  const std::string cmyk = testdata::EncodeCmykJpeg(rgb.data(), 120, 60, 90);
  prepared = PrepareImage(cmyk, {.max_side = 60});
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  EXPECT_TRUE(prepared->reencoded);
  EXPECT_TRUE(prepared->converted);
  ExpectYCbCrJpeg(*prepared, 60, 30);
}

TEST(PrepareImageTest, UnusableInputFailsWithTheDecodersReason) {
  const std::vector<uint8_t> rgb = Pixels(40, 24);
  const std::string jpeg = testdata::EncodeJpeg(rgb.data(), 40, 24, 90);
  EXPECT_THAT(PrepareImage("", {}).status().message(), HasSubstr("empty"));
  EXPECT_THAT(PrepareImage("<html>", {}).status().message(), HasSubstr("unknown image format"));
  EXPECT_THAT(PrepareImage(jpeg.substr(0, jpeg.size() / 2), {}).status().message(),
              HasSubstr("truncated"));
  absl::Status bomb = PrepareImage(jpeg, {.max_pixels = 100}).status();
  EXPECT_TRUE(absl::IsInvalidArgument(bomb)) << bomb;
  EXPECT_TRUE(PrepareImage(jpeg, {.max_pixels = 0}).ok());
}

// A PNG wider than any JPEG decodes, but cannot be converted; downscaled it can.
TEST(PrepareImageTest, OutputBeyondTheImageBoundsIsInvalidArgument) {
  const std::vector<uint8_t> rgb = Pixels(70000, 1);
  const std::string png = testdata::EncodePng(rgb.data(), 70000, 1, 3);
  const absl::Status status = PrepareImage(png, {}).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("70000x1"));
  absl::StatusOr<PreparedImage> prepared = PrepareImage(png, {.max_side = 400});
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  ExpectYCbCrJpeg(*prepared, 400, 1);
}

}  // namespace
}  // namespace forge
