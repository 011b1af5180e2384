// Tests for image_writers: every encoder's output decodes back (with TurboJPEG, libjpeg or
// libpng) to an image of the same size and nearly (JPEG) or exactly (PNG) the same pixels.

#include "testdata/image_writers.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <jpeglib.h>
#include <png.h>
#include <turbojpeg.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace forge::testdata {
namespace {

constexpr int kWidth = 37;  // Odd sizes exercise partial MCUs and 4:2:0 edge handling.
constexpr int kHeight = 23;

// Returns a smooth RGB gradient, which JPEG reproduces closely.
std::vector<uint8_t> Gradient(int width, int height, int channels) {
  std::vector<uint8_t> pixels(static_cast<size_t>(width) * height * channels);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = &pixels[(static_cast<size_t>(y) * width + x) * channels];
      const int values[4] = {x * 255 / (width - 1), y * 255 / (height - 1), 128 + (x - y) / 2,
                             255 - x * 3};
      for (int c = 0; c < channels; ++c) p[c] = static_cast<uint8_t>(values[c]);
    }
  }
  return pixels;
}

// Returns the mean absolute difference of two equally sized byte buffers.
double MeanAbsDiff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  EXPECT_EQ(a.size(), b.size());
  double sum = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) sum += std::abs(a[i] - b[i]);
  return a.empty() ? 0 : sum / a.size();
}

// Returns true if `jpeg` contains the two-byte marker 0xFF `code`.
bool HasMarker(const std::string& jpeg, uint8_t code) {
  return jpeg.find(std::string{'\xFF', static_cast<char>(code)}) != std::string::npos;
}

// What TurboJPEG reports about a JPEG header.
struct TjHeader {
  int width = 0, height = 0, subsampling = -1, colorspace = -1;
};

// Reads the header of `jpeg` with TurboJPEG; fails the test if TurboJPEG cannot.
TjHeader ReadTjHeader(const std::string& jpeg) {
  TjHeader header;
  tjhandle handle = tjInitDecompress();
  const int rc = tjDecompressHeader3(
      handle, reinterpret_cast<const unsigned char*>(jpeg.data()), jpeg.size(), &header.width,
      &header.height, &header.subsampling, &header.colorspace);
  EXPECT_EQ(rc, 0) << tjGetErrorStr2(handle);
  tjDestroy(handle);
  return header;
}

// Decodes `jpeg` with TurboJPEG to `pixel_format`; fails the test on any error or warning.
std::vector<uint8_t> TjDecode(const std::string& jpeg, int pixel_format) {
  const TjHeader header = ReadTjHeader(jpeg);
  std::vector<uint8_t> pixels(static_cast<size_t>(header.width) * header.height *
                              tjPixelSize[pixel_format]);
  tjhandle handle = tjInitDecompress();
  const int rc = tjDecompress2(handle, reinterpret_cast<const unsigned char*>(jpeg.data()),
                               jpeg.size(), pixels.data(), header.width, /*pitch=*/0,
                               header.height, pixel_format, /*flags=*/0);
  EXPECT_EQ(rc, 0) << tjGetErrorStr2(handle);
  tjDestroy(handle);
  return pixels;
}

TEST(EncodeJpegTest, BaselineDecodesToSameSizeAndNearlySamePixels) {
  const std::vector<uint8_t> rgb = Gradient(kWidth, kHeight, 3);
  const std::string jpeg = EncodeJpeg(rgb.data(), kWidth, kHeight, 95);
  EXPECT_EQ(jpeg.substr(0, 3), "\xFF\xD8\xFF");
  EXPECT_TRUE(HasMarker(jpeg, 0xC0)) << "SOF0 (baseline)";
  EXPECT_FALSE(HasMarker(jpeg, 0xC2)) << "SOF2 (progressive)";
  const TjHeader header = ReadTjHeader(jpeg);
  EXPECT_EQ(header.width, kWidth);
  EXPECT_EQ(header.height, kHeight);
  EXPECT_EQ(header.subsampling, TJSAMP_420);
  EXPECT_EQ(header.colorspace, TJCS_YCbCr);
  EXPECT_LT(MeanAbsDiff(TjDecode(jpeg, TJPF_RGB), rgb), 4.0);
}

TEST(EncodeJpegTest, ProgressiveHasSof2AndDecodes) {
  const std::vector<uint8_t> rgb = Gradient(kWidth, kHeight, 3);
  const std::string jpeg = EncodeJpeg(rgb.data(), kWidth, kHeight, 95, /*progressive=*/true);
  EXPECT_TRUE(HasMarker(jpeg, 0xC2)) << "SOF2 (progressive)";
  EXPECT_FALSE(HasMarker(jpeg, 0xC0)) << "SOF0 (baseline)";
  const TjHeader header = ReadTjHeader(jpeg);
  EXPECT_EQ(header.width, kWidth);
  EXPECT_EQ(header.height, kHeight);
  EXPECT_LT(MeanAbsDiff(TjDecode(jpeg, TJPF_RGB), rgb), 4.0);
}

TEST(EncodeJpegTest, IsDeterministicAndFollowsQuality) {
  const std::vector<uint8_t> rgb = Gradient(kWidth, kHeight, 3);
  EXPECT_EQ(EncodeJpeg(rgb.data(), kWidth, kHeight, 90),
            EncodeJpeg(rgb.data(), kWidth, kHeight, 90));
  EXPECT_LT(EncodeJpeg(rgb.data(), kWidth, kHeight, 20).size(),
            EncodeJpeg(rgb.data(), kWidth, kHeight, 98).size());
}

TEST(EncodeGrayJpegTest, IsOneComponentAndDecodes) {
  const std::vector<uint8_t> gray = Gradient(kWidth, kHeight, 1);
  const std::string jpeg = EncodeGrayJpeg(gray.data(), kWidth, kHeight, 95);
  const TjHeader header = ReadTjHeader(jpeg);
  EXPECT_EQ(header.width, kWidth);
  EXPECT_EQ(header.height, kHeight);
  EXPECT_EQ(header.subsampling, TJSAMP_GRAY);
  EXPECT_EQ(header.colorspace, TJCS_GRAY);
  EXPECT_LT(MeanAbsDiff(TjDecode(jpeg, TJPF_GRAY), gray), 3.0);
}

// A CMYK JPEG as libjpeg reads it: header facts plus the stored (inverted) CMYK bytes.
struct LibjpegCmyk {
  int width = 0, height = 0, components = 0;
  J_COLOR_SPACE color_space = JCS_UNKNOWN;
  bool saw_adobe_marker = false;
  int adobe_transform = -1;
  std::vector<uint8_t> cmyk;
};

// Decodes `jpeg` with libjpeg without color conversion. libjpeg errors abort the test binary
// (the default handler exits), which is acceptable for a file we just wrote.
LibjpegCmyk LibjpegDecodeCmyk(const std::string& jpeg) {
  LibjpegCmyk out;
  jpeg_decompress_struct cinfo;
  jpeg_error_mgr error_manager;
  cinfo.err = jpeg_std_error(&error_manager);
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(jpeg.data()), jpeg.size());
  jpeg_read_header(&cinfo, TRUE);
  out.width = cinfo.image_width;
  out.height = cinfo.image_height;
  out.components = cinfo.num_components;
  out.color_space = cinfo.jpeg_color_space;
  out.saw_adobe_marker = cinfo.saw_Adobe_marker;
  out.adobe_transform = cinfo.Adobe_transform;
  cinfo.out_color_space = JCS_CMYK;
  jpeg_start_decompress(&cinfo);
  out.cmyk.resize(static_cast<size_t>(out.width) * out.height * 4);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = &out.cmyk[static_cast<size_t>(cinfo.output_scanline) * out.width * 4];
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return out;
}

TEST(EncodeCmykJpegTest, IsAdobeCmykWithFourComponents) {
  const std::vector<uint8_t> rgb = Gradient(kWidth, kHeight, 3);
  const std::string jpeg = EncodeCmykJpeg(rgb.data(), kWidth, kHeight, 95);
  EXPECT_TRUE(HasMarker(jpeg, 0xEE)) << "APP14";
  EXPECT_NE(jpeg.find("Adobe"), std::string::npos);
  EXPECT_EQ(jpeg.find("JFIF"), std::string::npos);
  const LibjpegCmyk decoded = LibjpegDecodeCmyk(jpeg);
  EXPECT_EQ(decoded.width, kWidth);
  EXPECT_EQ(decoded.height, kHeight);
  EXPECT_EQ(decoded.components, 4);
  EXPECT_EQ(decoded.color_space, JCS_CMYK);
  EXPECT_TRUE(decoded.saw_adobe_marker);
  EXPECT_EQ(decoded.adobe_transform, 0);
  EXPECT_EQ(ReadTjHeader(jpeg).colorspace, TJCS_CMYK);
}

TEST(EncodeCmykJpegTest, InvertedCmykConvertsBackToRgb) {
  const std::vector<uint8_t> rgb = Gradient(kWidth, kHeight, 3);
  const LibjpegCmyk decoded =
      LibjpegDecodeCmyk(EncodeCmykJpeg(rgb.data(), kWidth, kHeight, 98));
  ASSERT_EQ(decoded.cmyk.size(), rgb.size() / 3 * 4);
  std::vector<uint8_t> back(rgb.size());
  for (size_t i = 0; i < rgb.size() / 3; ++i) {
    const uint8_t* p = &decoded.cmyk[4 * i];
    for (int c = 0; c < 3; ++c) back[3 * i + c] = static_cast<uint8_t>(p[c] * p[3] / 255);
  }
  EXPECT_LT(MeanAbsDiff(back, rgb), 4.0);
}

// Solid colours pin down the stored convention: inverted, so white and black are not zeros.
TEST(EncodeCmykJpegTest, StoresInvertedValuesLikePhotoshop) {
  struct Case {
    uint8_t rgb[3];
    int stored[4];  // Expected (255 - C, 255 - M, 255 - Y, 255 - K).
  };
  const Case cases[] = {
      {{255, 255, 255}, {255, 255, 255, 255}},  // White: no ink.
      {{0, 0, 0}, {255, 255, 255, 0}},          // Black: K only.
      {{255, 0, 0}, {255, 0, 0, 255}},          // Red: M and Y.
      {{0, 0, 128}, {0, 0, 255, 128}},          // Dark blue: C, M and half K.
  };
  for (const Case& c : cases) {
    std::vector<uint8_t> rgb(16 * 16 * 3);
    for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = c.rgb[i % 3];
    const LibjpegCmyk decoded = LibjpegDecodeCmyk(EncodeCmykJpeg(rgb.data(), 16, 16, 100));
    for (int k = 0; k < 4; ++k) {
      EXPECT_NEAR(decoded.cmyk[4 * 100 + k], c.stored[k], 2)
          << "rgb " << int{c.rgb[0]} << "," << int{c.rgb[1]} << "," << int{c.rgb[2]}
          << " component " << k;
    }
  }
}

class EncodePngTest : public ::testing::TestWithParam<int> {};

TEST_P(EncodePngTest, DecodesToSamePixels) {
  const int channels = GetParam();
  const std::vector<uint8_t> pixels = Gradient(kWidth, kHeight, channels);
  const std::string png = EncodePng(pixels.data(), kWidth, kHeight, channels);
  EXPECT_EQ(png.substr(0, 8), "\x89PNG\r\n\x1A\n");
  EXPECT_EQ(png, EncodePng(pixels.data(), kWidth, kHeight, channels));

  png_image image = {};
  image.version = PNG_IMAGE_VERSION;
  ASSERT_TRUE(png_image_begin_read_from_memory(&image, png.data(), png.size())) << image.message;
  EXPECT_EQ(image.width, static_cast<png_uint_32>(kWidth));
  EXPECT_EQ(image.height, static_cast<png_uint_32>(kHeight));
  EXPECT_EQ(PNG_IMAGE_PIXEL_CHANNELS(image.format), static_cast<unsigned>(channels));
  std::vector<uint8_t> decoded(PNG_IMAGE_SIZE(image));
  ASSERT_TRUE(png_image_finish_read(&image, nullptr, decoded.data(), 0, nullptr))
      << image.message;
  EXPECT_EQ(decoded, pixels);
}

INSTANTIATE_TEST_SUITE_P(Channels, EncodePngTest, ::testing::Values(1, 3, 4));

TEST(EncodePngDeathTest, RejectsTwoChannels) {
  const std::vector<uint8_t> pixels(8 * 8 * 2);
  EXPECT_DEATH(EncodePng(pixels.data(), 8, 8, 2), "channels must be 1, 3 or 4");
}

}  // namespace
}  // namespace forge::testdata
