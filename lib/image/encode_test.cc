// Tests for EncodeJpeg: round trip through DecodeImage within a stated tolerance, the header of
// what it writes, quality against size, determinism and refused input.
#include "lib/image/encode.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/image/decode.h"
#include "lib/image/image.h"

namespace forge {
namespace {

using ::testing::HasSubstr;

// A smooth image: colour changes by at most 3 levels per pixel, so that JPEG (and 4:2:0
// chroma subsampling in particular) reproduces it closely.
Image Gradient(int width, int height) {
  Image image(width, height);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = image.Row(y) + 3 * x;
      p[0] = static_cast<uint8_t>(std::min(235, 20 + 3 * x));
      p[1] = static_cast<uint8_t>(std::min(235, 30 + 2 * y));
      p[2] = static_cast<uint8_t>(std::min(235, 128 + x + y));
    }
  }
  return image;
}

// Pseudo-random pixels: expensive for JPEG, so quality shows in the size.
Image Noise(int width, int height) {
  Image image(width, height);
  uint32_t state = 12345;
  for (uint8_t& byte : image.pixels) {
    state = state * 1664525u + 1013904223u;
    byte = static_cast<uint8_t>(state >> 24);
  }
  return image;
}

struct Difference {
  double mean = 0;
  int max = 0;
};

Difference Compare(const Image& a, const Image& b) {
  Difference difference;
  EXPECT_EQ(a.pixels.size(), b.pixels.size());
  if (a.pixels.size() != b.pixels.size() || a.pixels.empty()) return difference;
  double sum = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) {
    const int d = std::abs(static_cast<int>(a.pixels[i]) - static_cast<int>(b.pixels[i]));
    sum += d;
    difference.max = std::max(difference.max, d);
  }
  difference.mean = sum / static_cast<double>(a.pixels.size());
  return difference;
}

TEST(EncodeJpegTest, RoundTripWithinTolerance) {
  // Tolerance at quality 90 on a smooth image: mean absolute error per channel byte below 2,
  // no byte off by more than 10 (measured: below 1.1 and 5).
  const std::vector<std::pair<int, int>> sizes = {{37, 23}, {64, 48}, {1, 1}, {2, 17}, {50, 3}};
  for (const auto& [width, height] : sizes) {
    const Image original = Gradient(width, height);
    absl::StatusOr<std::string> jpeg = EncodeJpeg(original);
    ASSERT_TRUE(jpeg.ok()) << jpeg.status();
    absl::StatusOr<Image> decoded = DecodeImage(*jpeg);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->width, width);
    EXPECT_EQ(decoded->height, height);
    const Difference difference = Compare(original, *decoded);
    EXPECT_LT(difference.mean, 2.0) << width << "x" << height;
    EXPECT_LE(difference.max, 10) << width << "x" << height;
  }
}

TEST(EncodeJpegTest, WritesBaselineYCbCrJpeg) {
  absl::StatusOr<std::string> jpeg = EncodeJpeg(Gradient(37, 23), {.quality = 75});
  ASSERT_TRUE(jpeg.ok()) << jpeg.status();
  absl::StatusOr<ImageHeader> header = ReadImageHeader(*jpeg);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->format, ImageFormat::kJpeg);
  EXPECT_EQ(header->color_space, ColorSpace::kYCbCr);
  EXPECT_EQ(header->components, 3);
  EXPECT_EQ(header->bit_depth, 8);
  EXPECT_FALSE(header->progressive);
  EXPECT_EQ(header->width, 37);
  EXPECT_EQ(header->height, 23);
}

TEST(EncodeJpegTest, HigherQualityIsLargerAndCloser) {
  const Image noise = Noise(96, 64);
  const Image smooth = Gradient(96, 64);
  size_t previous_size = 0;
  double previous_error = 1e9;
  for (int quality : {10, 50, 90, 100}) {
    absl::StatusOr<std::string> jpeg = EncodeJpeg(noise, {.quality = quality});
    ASSERT_TRUE(jpeg.ok()) << jpeg.status();
    EXPECT_GT(jpeg->size(), previous_size) << "quality " << quality;
    previous_size = jpeg->size();
    absl::StatusOr<std::string> smooth_jpeg = EncodeJpeg(smooth, {.quality = quality});
    ASSERT_TRUE(smooth_jpeg.ok()) << smooth_jpeg.status();
    absl::StatusOr<Image> decoded = DecodeImage(*smooth_jpeg);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    const double error = Compare(smooth, *decoded).mean;
    EXPECT_LE(error, previous_error) << "quality " << quality;
    previous_error = error;
  }
}

TEST(EncodeJpegTest, DeterministicAcrossCallsAndThreads) {
  const Image image = Noise(33, 17);
  absl::StatusOr<std::string> first = EncodeJpeg(image);
  ASSERT_TRUE(first.ok()) << first.status();
  std::vector<std::string> results(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int repeat = 0; repeat < 5; ++repeat) results[t] = EncodeJpeg(image).value_or("");
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& result : results) EXPECT_EQ(result, *first);
}

TEST(EncodeJpegTest, RefusesBadInput) {
  absl::Status empty = EncodeJpeg(Image()).status();
  EXPECT_TRUE(absl::IsInvalidArgument(empty)) << empty;
  EXPECT_THAT(empty.message(), HasSubstr("empty"));

  Image inconsistent(4, 4);
  inconsistent.pixels.resize(10);
  EXPECT_TRUE(absl::IsInvalidArgument(EncodeJpeg(inconsistent).status()));

  Image too_wide;
  too_wide.width = 70000;
  too_wide.height = 1;
  EXPECT_TRUE(absl::IsInvalidArgument(EncodeJpeg(too_wide).status()));

  const Image image = Gradient(8, 8);
  for (int quality : {0, -5, 101}) {
    absl::Status status = EncodeJpeg(image, {.quality = quality}).status();
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << quality;
    EXPECT_THAT(status.message(), HasSubstr("quality")) << status;
  }
  EXPECT_TRUE(EncodeJpeg(image, {.quality = 1}).ok());
  EXPECT_TRUE(EncodeJpeg(image, {.quality = 100}).ok());
}

}  // namespace
}  // namespace forge
