// Tests for DecodeImage, ReadImageHeader and DetectFormat: every JPEG and PNG kind against
// Pillow's pixels (checked-in fixtures and goldens from testdata/make_golden.py), images from
// //testdata:image_writers against their source pixels, and pathological input: truncation
// at every offset, corrupt and random bytes, decompression bombs, zero sizes.
#include "lib/image/decode.h"

#include <jpeglib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/image/golden.h"
#include "lib/image/image.h"
#include "testdata/image_writers.h"

namespace forge {
namespace {

using ::forge::image_testing::PixelsMatchGolden;
using ::forge::image_testing::ReadGoldenLines;
using ::forge::image_testing::ReadTestdata;
using ::testing::HasSubstr;

constexpr int kWidth = 37;  // Odd sizes: partial MCUs and chroma edges.
constexpr int kHeight = 23;

// A smooth RGB image with some texture, which JPEG reproduces closely.
std::vector<uint8_t> Gradient(int width, int height) {
  std::vector<uint8_t> rgb(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
      p[0] = static_cast<uint8_t>(20 + x * 200 / width);
      p[1] = static_cast<uint8_t>(30 + y * 190 / height);
      p[2] = static_cast<uint8_t>(128 + (x - y) * 2);
    }
  }
  return rgb;
}

std::vector<uint8_t> ToGray(const std::vector<uint8_t>& rgb) {
  std::vector<uint8_t> gray(rgb.size() / 3);
  for (size_t i = 0; i < gray.size(); ++i) {
    gray[i] = static_cast<uint8_t>(
        (rgb[3 * i] * 299 + rgb[3 * i + 1] * 587 + rgb[3 * i + 2] * 114 + 500) / 1000);
  }
  return gray;
}

double MeanAbsDiff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  EXPECT_EQ(a.size(), b.size());
  double sum = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) sum += std::abs(a[i] - b[i]);
  return a.empty() ? 0 : sum / a.size();
}

int MaxAbsDiff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  EXPECT_EQ(a.size(), b.size());
  int max = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    max = std::max(max, std::abs(a[i] - b[i]));
  }
  return max;
}

std::string Jpeg(int quality = 90, bool progressive = false) {
  const std::vector<uint8_t> rgb = Gradient(kWidth, kHeight);
  return testdata::EncodeJpeg(rgb.data(), kWidth, kHeight, quality, progressive);
}

std::string Png(int channels) {
  std::vector<uint8_t> pixels(static_cast<size_t>(kWidth) * kHeight * channels);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 7 + i / 5);
  return testdata::EncodePng(pixels.data(), kWidth, kHeight, channels);
}

// Offset of the first marker FF `code` among the JPEG header segments (up to and including
// the first SOS), or npos.
size_t FindHeaderMarker(const std::string& jpeg, uint8_t code) {
  size_t pos = 2;  // After SOI.
  while (pos + 4 <= jpeg.size() && static_cast<uint8_t>(jpeg[pos]) == 0xFF) {
    const auto marker = static_cast<uint8_t>(jpeg[pos + 1]);
    if (marker == code) return pos;
    if (marker == 0xDA) break;
    pos += 2 + (static_cast<uint8_t>(jpeg[pos + 2]) << 8 | static_cast<uint8_t>(jpeg[pos + 3]));
  }
  return std::string::npos;
}

// `jpeg` with the size in its SOF0/SOF2 segment replaced.
std::string WithJpegSize(std::string jpeg, int width, int height) {
  size_t sof = FindHeaderMarker(jpeg, 0xC0);
  if (sof == std::string::npos) sof = FindHeaderMarker(jpeg, 0xC2);
  EXPECT_NE(sof, std::string::npos);
  if (sof == std::string::npos) return jpeg;
  jpeg[sof + 5] = static_cast<char>(height >> 8);
  jpeg[sof + 6] = static_cast<char>(height);
  jpeg[sof + 7] = static_cast<char>(width >> 8);
  jpeg[sof + 8] = static_cast<char>(width);
  return jpeg;
}

std::string WithoutAdobeMarker(std::string jpeg) {
  const size_t app14 = FindHeaderMarker(jpeg, 0xEE);
  EXPECT_NE(app14, std::string::npos);
  if (app14 == std::string::npos) return jpeg;
  const int length =
      static_cast<uint8_t>(jpeg[app14 + 2]) << 8 | static_cast<uint8_t>(jpeg[app14 + 3]);
  return jpeg.erase(app14, 2 + length);
}

uint32_t Crc32(const std::string& data, size_t begin, size_t end) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = begin; i < end; ++i) {
    crc ^= static_cast<uint8_t>(data[i]);
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
  }
  return ~crc;
}

void PutBigEndian32(uint32_t value, size_t offset, std::string* data) {
  for (int i = 0; i < 4; ++i) (*data)[offset + i] = static_cast<char>(value >> (24 - 8 * i));
}

// `png` with the size in its IHDR chunk (always first, at offset 8) replaced, CRC fixed.
std::string WithPngSize(std::string png, uint32_t width, uint32_t height) {
  PutBigEndian32(width, 16, &png);
  PutBigEndian32(height, 20, &png);
  PutBigEndian32(Crc32(png, 12, 29), 29, &png);  // Over chunk type and data.
  return png;
}

// A 4-component JPEG with Adobe transform 2 (YCCK) whose stored CMYK samples are
// (R, G, B, 255): with Pillow's inverted reading, that is RGB = (R, G, B). Written here with
// libjpeg because //testdata:image_writers has no YCCK writer.
std::string EncodeYcckJpeg(const std::vector<uint8_t>& rgb, int width, int height) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);  // Exits on error: acceptable for fixed, valid input.
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = 4;
  cinfo.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_colorspace(&cinfo, JCS_YCCK);  // Writes an Adobe marker with transform 2.
  jpeg_set_quality(&cinfo, 95, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  std::vector<uint8_t> row(static_cast<size_t>(width) * 4);
  while (cinfo.next_scanline < cinfo.image_height) {
    const uint8_t* src = &rgb[static_cast<size_t>(cinfo.next_scanline) * width * 3];
    for (int x = 0; x < width; ++x) {
      row[4 * x + 0] = src[3 * x + 0];
      row[4 * x + 1] = src[3 * x + 1];
      row[4 * x + 2] = src[3 * x + 2];
      row[4 * x + 3] = 255;
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

// ---------------------------------------------------------------------------------------
// Pillow goldens.

class PillowGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PillowGoldenTest, DecodesLikePillow) {
  const std::string& name = GetParam();
  bool found = false;
  for (const std::vector<std::string>& line : ReadGoldenLines("decode_golden.txt")) {
    if (line[0] != name) continue;
    found = true;
    ASSERT_GE(line.size(), 4u);
    absl::StatusOr<Image> image = DecodeImage(ReadTestdata(name));
    ASSERT_TRUE(image.ok()) << image.status();
    EXPECT_EQ(image->width, std::stoi(line[1]));
    EXPECT_EQ(image->height, std::stoi(line[2]));
    std::string golden = line[3];
    for (size_t i = 4; i < line.size(); ++i) absl::StrAppend(&golden, " ", line[i]);
    EXPECT_TRUE(PixelsMatchGolden(*image, golden));  // Exact: tolerance 0.
  }
  EXPECT_TRUE(found) << name << " not in decode_golden.txt";
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, PillowGoldenTest,
    ::testing::Values(
        // Baseline YCbCr 4:2:0, 4:2:2, 4:4:4, progressive, grayscale, CMYK with and without
        // the Adobe marker (Pillow reads both as inverted).
        "rgb420_17x11.jpg", "rgb422_17x11.jpg", "rgb444_17x11.jpg", "rgb420_40x24.jpg",
        "progressive420_17x11.jpg", "progressive420_40x24.jpg", "gray_17x11.jpg",
        "cmyk_adobe_17x11.jpg", "cmyk_noadobe_17x11.jpg",
        // PNG: 16-bit RGB/RGBA/gray-alpha (high byte), 16-bit gray (clamped), 1/2/4-bit gray,
        // palette with tRNS and an index past the palette, tRNS and gAMA ignored, Adam7.
        "rgb16_3x2.png", "rgba16_2x1.png", "grayalpha16_2x1.png", "gray16_6x1.png",
        "grayalpha8_2x1.png", "rgba8_2x1.png", "gray1_8x1.png", "gray2_4x1.png", "gray4_2x1.png",
        "palette4_trns_4x1.png", "palette8_3x1.png", "gray8_trns_2x1.png", "rgb8_gama_trns_2x1.png",
        "interlaced_rgb_5x3.png"),
    [](const ::testing::TestParamInfo<std::string>& info) {
      std::string name = info.param;
      std::replace(name.begin(), name.end(), '.', '_');
      return name;
    });

// ---------------------------------------------------------------------------------------
// Format detection and headers.

TEST(DetectFormatTest, FromMagicBytes) {
  EXPECT_EQ(DetectFormat(Jpeg()), ImageFormat::kJpeg);
  EXPECT_EQ(DetectFormat(Png(3)), ImageFormat::kPng);
  EXPECT_EQ(DetectFormat(""), ImageFormat::kUnknown);
  EXPECT_EQ(DetectFormat("\xFF\xD8"), ImageFormat::kUnknown);  // Too short.
  EXPECT_EQ(DetectFormat(std::string("\x89PNG\r\n\x1A", 7)), ImageFormat::kUnknown);
  EXPECT_EQ(DetectFormat("GIF89a......"), ImageFormat::kUnknown);
  EXPECT_EQ(DetectFormat("hello, world"), ImageFormat::kUnknown);
}

TEST(ReadImageHeaderTest, BaselineJpeg) {
  absl::StatusOr<ImageHeader> header = ReadImageHeader(Jpeg());
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->format, ImageFormat::kJpeg);
  EXPECT_EQ(header->width, kWidth);
  EXPECT_EQ(header->height, kHeight);
  EXPECT_EQ(header->components, 3);
  EXPECT_EQ(header->bit_depth, 8);
  EXPECT_FALSE(header->progressive);
  EXPECT_EQ(header->color_space, ColorSpace::kYCbCr);
  EXPECT_FALSE(header->adobe_marker);
}

TEST(ReadImageHeaderTest, JpegKinds) {
  const std::vector<uint8_t> rgb = Gradient(kWidth, kHeight);
  absl::StatusOr<ImageHeader> header = ReadImageHeader(Jpeg(90, /*progressive=*/true));
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_TRUE(header->progressive);
  EXPECT_EQ(header->color_space, ColorSpace::kYCbCr);

  header = ReadImageHeader(testdata::EncodeGrayJpeg(ToGray(rgb).data(), kWidth, kHeight, 90));
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->components, 1);
  EXPECT_EQ(header->color_space, ColorSpace::kGray);

  const std::string cmyk = testdata::EncodeCmykJpeg(rgb.data(), kWidth, kHeight, 90);
  header = ReadImageHeader(cmyk);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->components, 4);
  EXPECT_EQ(header->color_space, ColorSpace::kCmyk);
  EXPECT_TRUE(header->adobe_marker);
  EXPECT_STREQ(ColorSpaceName(header->color_space), "CMYK");

  header = ReadImageHeader(WithoutAdobeMarker(cmyk));
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->color_space, ColorSpace::kCmyk);
  EXPECT_FALSE(header->adobe_marker);

  header = ReadImageHeader(EncodeYcckJpeg(rgb, kWidth, kHeight));
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->color_space, ColorSpace::kYcck);
  EXPECT_TRUE(header->adobe_marker);
}

TEST(ReadImageHeaderTest, PngKinds) {
  absl::StatusOr<ImageHeader> header = ReadImageHeader(Png(4));
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->format, ImageFormat::kPng);
  EXPECT_EQ(header->width, kWidth);
  EXPECT_EQ(header->height, kHeight);
  EXPECT_EQ(header->components, 4);
  EXPECT_EQ(header->bit_depth, 8);
  EXPECT_EQ(header->color_space, ColorSpace::kRgba);
  EXPECT_FALSE(header->progressive);

  header = ReadImageHeader(ReadTestdata("rgb16_3x2.png"));
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->bit_depth, 16);
  EXPECT_EQ(header->color_space, ColorSpace::kRgb);
  EXPECT_EQ(header->components, 3);

  header = ReadImageHeader(ReadTestdata("palette4_trns_4x1.png"));
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->bit_depth, 4);
  EXPECT_EQ(header->color_space, ColorSpace::kPalette);
  EXPECT_EQ(header->components, 1);

  header = ReadImageHeader(ReadTestdata("grayalpha8_2x1.png"));
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->color_space, ColorSpace::kGrayAlpha);
  EXPECT_EQ(header->components, 2);

  header = ReadImageHeader(ReadTestdata("interlaced_rgb_5x3.png"));
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_TRUE(header->progressive);
  EXPECT_EQ(header->width, 5);
  EXPECT_EQ(header->height, 3);
}

TEST(ReadImageHeaderTest, NeedsOnlyTheHeader) {
  // Cut in the middle of the entropy-coded data: the header is complete, the image is not.
  const std::string jpeg = Jpeg();
  const std::string cut = jpeg.substr(0, jpeg.size() - 100);
  absl::StatusOr<ImageHeader> header = ReadImageHeader(cut);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->width, kWidth);
  EXPECT_FALSE(DecodeImage(cut).ok());

  // Same for a PNG cut inside its image data.
  const std::string png = Png(3);
  header = ReadImageHeader(png.substr(0, png.size() - 40));
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->height, kHeight);
}

TEST(ReadImageHeaderTest, DoesNotApplyThePixelLimit) {
  // A header is data about the image, not a decode: bombs are reported, not refused.
  absl::StatusOr<ImageHeader> header = ReadImageHeader(WithJpegSize(Jpeg(), 60000, 60000));
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->width, 60000);
  EXPECT_EQ(header->height, 60000);
}

TEST(ReadImageHeaderTest, Errors) {
  EXPECT_EQ(ReadImageHeader("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadImageHeader("plain text").status().code(), absl::StatusCode::kInvalidArgument);
  const std::string jpeg = Jpeg();
  absl::StatusOr<ImageHeader> header = ReadImageHeader(jpeg.substr(0, 30));
  EXPECT_EQ(header.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(header.status().message()), HasSubstr("truncated"));
  header = ReadImageHeader(Png(3).substr(0, 20));
  EXPECT_EQ(header.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(header.status().message()), HasSubstr("truncated"));
}

// ---------------------------------------------------------------------------------------
// JPEG kinds from the writers, against their source pixels.

TEST(DecodeJpegTest, Baseline) {
  const std::vector<uint8_t> rgb = Gradient(kWidth, kHeight);
  absl::StatusOr<Image> image = DecodeImage(Jpeg(95));
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->width, kWidth);
  EXPECT_EQ(image->height, kHeight);
  ASSERT_EQ(image->pixels.size(), rgb.size());
  // JPEG loss on a smooth image at quality 95 with 4:2:0 chroma: small on average.
  EXPECT_LT(MeanAbsDiff(image->pixels, rgb), 2.0);
  EXPECT_LT(MaxAbsDiff(image->pixels, rgb), 20);
}

TEST(DecodeJpegTest, ProgressiveEqualsBaseline) {
  // Same quality, same quantised coefficients: progressive coding is lossless on top, so the
  // pixels must be identical.
  absl::StatusOr<Image> baseline = DecodeImage(Jpeg(85, false));
  absl::StatusOr<Image> progressive = DecodeImage(Jpeg(85, true));
  ASSERT_TRUE(baseline.ok()) << baseline.status();
  ASSERT_TRUE(progressive.ok()) << progressive.status();
  EXPECT_EQ(progressive->pixels, baseline->pixels);
}

TEST(DecodeJpegTest, GrayscaleIsReplicated) {
  const std::vector<uint8_t> gray = ToGray(Gradient(kWidth, kHeight));
  absl::StatusOr<Image> image =
      DecodeImage(testdata::EncodeGrayJpeg(gray.data(), kWidth, kHeight, 95));
  ASSERT_TRUE(image.ok()) << image.status();
  ASSERT_EQ(image->pixels.size(), gray.size() * 3);
  std::vector<uint8_t> red(gray.size());
  for (size_t i = 0; i < gray.size(); ++i) {
    red[i] = image->pixels[3 * i];
    ASSERT_EQ(image->pixels[3 * i + 1], red[i]) << "pixel " << i;
    ASSERT_EQ(image->pixels[3 * i + 2], red[i]) << "pixel " << i;
  }
  EXPECT_LT(MeanAbsDiff(red, gray), 1.5);
}

TEST(DecodeJpegTest, AdobeCmyk) {
  const std::vector<uint8_t> rgb = Gradient(kWidth, kHeight);
  const std::string cmyk = testdata::EncodeCmykJpeg(rgb.data(), kWidth, kHeight, 95);
  absl::StatusOr<Image> image = DecodeImage(cmyk);
  ASSERT_TRUE(image.ok()) << image.status();
  // The writer's CMYK conversion rounds, then JPEG loses a little on each of 4 channels.
  EXPECT_LT(MeanAbsDiff(image->pixels, rgb), 2.0);
  EXPECT_LT(MaxAbsDiff(image->pixels, rgb), 20);
}

TEST(DecodeJpegTest, CmykWithoutAdobeMarkerDecodesLikeWithIt) {
  // Pillow always reads CMYK JPEG samples as Adobe-inverted, marker or not; so do we (see
  // also the cmyk_noadobe_17x11.jpg golden).
  const std::vector<uint8_t> rgb = Gradient(kWidth, kHeight);
  const std::string cmyk = testdata::EncodeCmykJpeg(rgb.data(), kWidth, kHeight, 90);
  absl::StatusOr<Image> with_marker = DecodeImage(cmyk);
  absl::StatusOr<Image> without_marker = DecodeImage(WithoutAdobeMarker(cmyk));
  ASSERT_TRUE(with_marker.ok()) << with_marker.status();
  ASSERT_TRUE(without_marker.ok()) << without_marker.status();
  EXPECT_EQ(without_marker->pixels, with_marker->pixels);
}

TEST(DecodeJpegTest, Ycck) {
  const std::vector<uint8_t> rgb = Gradient(kWidth, kHeight);
  absl::StatusOr<Image> image = DecodeImage(EncodeYcckJpeg(rgb, kWidth, kHeight));
  ASSERT_TRUE(image.ok()) << image.status();
  // libjpeg's YCCK defaults subsample Cb and Cr 2x2; quality 95: small loss.
  EXPECT_LT(MeanAbsDiff(image->pixels, rgb), 2.0);
  EXPECT_LT(MaxAbsDiff(image->pixels, rgb), 20);
}

TEST(DecodeJpegTest, ToleratesExtraneousBytesBeforeMarker) {
  // libjpeg warns "Corrupt JPEG data: 3 extraneous bytes before marker 0xd9"; Pillow
  // decodes such files (ImageNet has some), so must we, with the same pixels.
  const std::string jpeg = Jpeg();
  ASSERT_EQ(jpeg.substr(jpeg.size() - 2), "\xFF\xD9");
  const std::string noisy = jpeg.substr(0, jpeg.size() - 2) + "\x12\x34\x56" + "\xFF\xD9";
  absl::StatusOr<Image> clean = DecodeImage(jpeg);
  absl::StatusOr<Image> image = DecodeImage(noisy);
  ASSERT_TRUE(clean.ok()) << clean.status();
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->pixels, clean->pixels);
}

TEST(DecodeJpegTest, TrailingGarbageAfterEoiIsIgnored) {
  absl::StatusOr<Image> image = DecodeImage(Jpeg() + "trailing junk");
  EXPECT_TRUE(image.ok()) << image.status();
}

TEST(DecodeJpegTest, RefusesTooManyScans) {
  // Repeat the last scan of a progressive file: libjpeg only warns about the bogus
  // progression, so without a limit any number of scans would be decoded.
  const std::string jpeg = Jpeg(90, /*progressive=*/true);
  const size_t last_scan = jpeg.rfind("\xFF\xDA");
  ASSERT_NE(last_scan, std::string::npos);
  const std::string head = jpeg.substr(0, last_scan);
  const std::string scan = jpeg.substr(last_scan, jpeg.size() - 2 - last_scan);
  const int scans_before = [&] {
    int n = 0;
    for (size_t p = head.find("\xFF\xDA"); p != std::string::npos; p = head.find("\xFF\xDA", p + 2))
      ++n;
    return n;
  }();
  std::string few = head;
  for (int i = 0; i < 20; ++i) few += scan;
  EXPECT_TRUE(DecodeImage(few + "\xFF\xD9").ok()) << "20 repeated scans are still decoded";

  std::string many = head;
  for (int i = scans_before; i <= 1000; ++i) many += scan;  // 1001 scans in all.
  absl::StatusOr<Image> image = DecodeImage(many + "\xFF\xD9");
  EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(image.status().message()), HasSubstr("more than 1000 scans"));
}

// ---------------------------------------------------------------------------------------
// PNG from the writer.

TEST(DecodePngTest, Rgb) {
  std::vector<uint8_t> rgb(static_cast<size_t>(kWidth) * kHeight * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i * 7 + i / 5);
  absl::StatusOr<Image> image = DecodeImage(testdata::EncodePng(rgb.data(), kWidth, kHeight, 3));
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->width, kWidth);
  EXPECT_EQ(image->height, kHeight);
  EXPECT_EQ(image->pixels, rgb);  // Lossless.
}

TEST(DecodePngTest, GrayIsReplicatedAndAlphaDropped) {
  std::vector<uint8_t> gray(static_cast<size_t>(kWidth) * kHeight);
  std::vector<uint8_t> rgba(gray.size() * 4);
  for (size_t i = 0; i < gray.size(); ++i) gray[i] = static_cast<uint8_t>(i * 13);
  for (size_t i = 0; i < rgba.size(); ++i) rgba[i] = static_cast<uint8_t>(i * 5 + 1);

  absl::StatusOr<Image> image = DecodeImage(testdata::EncodePng(gray.data(), kWidth, kHeight, 1));
  ASSERT_TRUE(image.ok()) << image.status();
  for (size_t i = 0; i < gray.size(); ++i) {
    ASSERT_EQ(image->pixels[3 * i], gray[i]);
    ASSERT_EQ(image->pixels[3 * i + 1], gray[i]);
    ASSERT_EQ(image->pixels[3 * i + 2], gray[i]);
  }

  image = DecodeImage(testdata::EncodePng(rgba.data(), kWidth, kHeight, 4));
  ASSERT_TRUE(image.ok()) << image.status();
  for (size_t i = 0; i < gray.size(); ++i) {
    // Not composited on any background: the colour stays whatever the alpha.
    ASSERT_EQ(image->pixels[3 * i], rgba[4 * i]);
    ASSERT_EQ(image->pixels[3 * i + 1], rgba[4 * i + 1]);
    ASSERT_EQ(image->pixels[3 * i + 2], rgba[4 * i + 2]);
  }
}

TEST(DecodePngTest, PngWhereJpegIsExpected) {
  // ImageNet's n02105855_2933.JPEG is a PNG. We are never given names; the content decides.
  const std::string png = Png(3);
  EXPECT_EQ(DetectFormat(png), ImageFormat::kPng);
  absl::StatusOr<Image> image = DecodeImage(png);
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->width, kWidth);
}

TEST(DecodePngTest, MissingIendIsAccepted) {
  // Like Pillow: everything after the image data is optional.
  const std::string png = Png(3);
  ASSERT_EQ(png.substr(png.size() - 8, 4), "IEND");
  absl::StatusOr<Image> full = DecodeImage(png);
  absl::StatusOr<Image> cut = DecodeImage(png.substr(0, png.size() - 12));
  ASSERT_TRUE(full.ok()) << full.status();
  ASSERT_TRUE(cut.ok()) << cut.status();
  EXPECT_EQ(cut->pixels, full->pixels);
}

// ---------------------------------------------------------------------------------------
// Errors.

TEST(DecodeErrorsTest, Empty) {
  absl::StatusOr<Image> image = DecodeImage("");
  EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(image.status().message()), HasSubstr("empty"));
}

TEST(DecodeErrorsTest, TextFileShowsItsFirstBytes) {
  absl::StatusOr<Image> image = DecodeImage("<html><body>Not Found</body></html>\n");
  EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(image.status().message()), HasSubstr("unknown image format"));
  EXPECT_THAT(std::string(image.status().message()), HasSubstr("3c 68 74 6d 6c 3e 3c 62"));
  EXPECT_THAT(std::string(image.status().message()), HasSubstr("<html><b"));
}

TEST(DecodeErrorsTest, JpegTruncatedAtEveryOffset) {
  for (const bool progressive : {false, true}) {
    const std::string jpeg = Jpeg(90, progressive);
    for (size_t size = 0; size < jpeg.size(); ++size) {
      absl::StatusOr<Image> image = DecodeImage(jpeg.substr(0, size));
      ASSERT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument)
          << "progressive=" << progressive << " cut at " << size << " of " << jpeg.size();
      if (size >= 3) {  // Shorter is not recognisably JPEG.
        ASSERT_THAT(std::string(image.status().message()), HasSubstr("truncated JPEG"))
            << "progressive=" << progressive << " cut at " << size << " of " << jpeg.size();
      }
    }
  }
}

TEST(DecodeErrorsTest, CmykJpegTruncatedAtEveryOffset) {
  const std::vector<uint8_t> rgb = Gradient(kWidth, kHeight);
  const std::string jpeg = testdata::EncodeCmykJpeg(rgb.data(), kWidth, kHeight, 90);
  for (size_t size = 3; size < jpeg.size(); ++size) {
    absl::StatusOr<Image> image = DecodeImage(jpeg.substr(0, size));
    ASSERT_THAT(std::string(image.status().message()), HasSubstr("truncated JPEG"))
        << "cut at " << size;
  }
}

TEST(DecodeErrorsTest, PngTruncatedAtEveryOffset) {
  for (const int channels : {1, 3, 4}) {
    const std::string png = Png(channels);
    const size_t iend = png.size() - 12;  // Cuts in IEND are accepted (MissingIendIsAccepted).
    for (size_t size = 0; size < iend; ++size) {
      absl::StatusOr<Image> image = DecodeImage(png.substr(0, size));
      ASSERT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument)
          << "channels=" << channels << " cut at " << size << " of " << png.size();
      if (size >= 8) {  // Shorter is not recognisably PNG.
        ASSERT_THAT(std::string(image.status().message()), HasSubstr("truncated PNG"))
            << "channels=" << channels << " cut at " << size << " of " << png.size();
      }
    }
  }
  // Interlaced and 16-bit fixtures too.
  for (const char* name : {"interlaced_rgb_5x3.png", "rgb16_3x2.png", "palette4_trns_4x1.png"}) {
    const std::string png = ReadTestdata(name);
    for (size_t size = 8; size < png.size() - 12; ++size) {
      ASSERT_THAT(std::string(DecodeImage(png.substr(0, size)).status().message()),
                  HasSubstr("truncated PNG"))
          << name << " cut at " << size;
    }
  }
}

TEST(DecodeErrorsTest, CorruptJpegIncludesLibjpegsMessage) {
  // Turn baseline SOF0 into SOF3 (lossless), which libjpeg-turbo does not decode.
  std::string jpeg = Jpeg();
  const size_t sof = FindHeaderMarker(jpeg, 0xC0);
  ASSERT_NE(sof, std::string::npos);
  jpeg[sof + 1] = '\xC3';
  absl::StatusOr<Image> image = DecodeImage(jpeg);
  EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(image.status().message()), HasSubstr("corrupt JPEG data (libjpeg: "));
  EXPECT_THAT(std::string(image.status().message()), HasSubstr("SOF type 0xc3"));
}

TEST(DecodeErrorsTest, CorruptPngIncludesLibpngsMessage) {
  std::string png = Png(3);
  png[29] ^= 0x55;  // IHDR's CRC.
  absl::StatusOr<Image> image = DecodeImage(png);
  EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(image.status().message()), HasSubstr("corrupt PNG data (libpng: "));
  EXPECT_THAT(std::string(image.status().message()), HasSubstr("CRC"));
}

TEST(DecodeErrorsTest, ZeroSized) {
  absl::StatusOr<Image> image = DecodeImage(WithJpegSize(Jpeg(), kWidth, 0));
  EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(image.status().message()), HasSubstr("zero size"));
  image = DecodeImage(WithJpegSize(Jpeg(), 0, kHeight));
  EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(image.status().message()), HasSubstr("zero size"));
  image = DecodeImage(WithPngSize(Png(3), 0, kHeight));
  EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(image.status().message()), HasSubstr("width is zero"));
  image = DecodeImage(WithPngSize(Png(3), kWidth, 0));
  EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(image.status().message()), HasSubstr("height is zero"));
}

// ---------------------------------------------------------------------------------------
// Decompression bombs.

TEST(DecodeBombTest, JpegRefusedFromHeaderBeforeDecoding) {
  // 60000 x 60000 claimed, a few hundred bytes of data: if any pixel were decoded (or the
  // 10 GB output allocated) the error would be "truncated" or an allocation failure.
  const std::string bomb = WithJpegSize(Jpeg(), 60000, 60000);
  absl::StatusOr<Image> image = DecodeImage(bomb);
  EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(image.status().message()), HasSubstr("60000x60000 = 3600000000 pixels"));
  EXPECT_THAT(std::string(image.status().message()), HasSubstr("limit of 178956970"));
}

TEST(DecodeBombTest, PngRefusedFromHeaderBeforeDecoding) {
  absl::StatusOr<Image> image = DecodeImage(WithPngSize(Png(3), 100000, 50000));
  EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(image.status().message()), HasSubstr("100000x50000 = 5000000000 pixels"));
}

TEST(DecodeBombTest, LimitIsInclusiveAndCanBeDisabled) {
  const int64_t pixels = int64_t{kWidth} * kHeight;
  for (const std::string& bytes : {Jpeg(), Png(3)}) {
    DecodeOptions options;
    options.max_pixels = pixels;
    EXPECT_TRUE(DecodeImage(bytes, options).ok());
    options.max_pixels = pixels - 1;
    absl::StatusOr<Image> image = DecodeImage(bytes, options);
    EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(image.status().message()),
                HasSubstr(absl::StrCat("limit of ", pixels - 1)));
    options.max_pixels = 0;
    EXPECT_TRUE(DecodeImage(bytes, options).ok());
    options.max_pixels = -1;
    EXPECT_TRUE(DecodeImage(bytes, options).ok());
  }
}

TEST(DecodeBombTest, AbsurdJpegDimensions) {
  // Beyond libjpeg's own 65500 limit, with and without our limit.
  DecodeOptions unlimited;
  unlimited.max_pixels = 0;
  for (const int size : {65500, 65535}) {
    const std::string bomb = WithJpegSize(Jpeg(), size, size);
    EXPECT_EQ(DecodeImage(bomb).status().code(), absl::StatusCode::kInvalidArgument);
    if (size > 65500) {
      EXPECT_EQ(DecodeImage(bomb, unlimited).status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Fuzz-style: nothing crashes, every failure is InvalidArgument.

void ExpectDecodesOrFails(const std::string& bytes, const std::string& what) {
  DecodeOptions options;
  options.max_pixels = 1 << 20;  // Keep mutated headers from allocating large images.
  absl::StatusOr<Image> image = DecodeImage(bytes, options);
  if (image.ok()) {
    ASSERT_EQ(image->pixels.size(), static_cast<size_t>(image->width) * image->height * 3) << what;
  } else {
    ASSERT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument)
        << what << ": " << image.status();
    ASSERT_FALSE(image.status().message().empty()) << what;
  }
  absl::StatusOr<ImageHeader> header = ReadImageHeader(bytes);
  if (!header.ok()) {
    ASSERT_EQ(header.status().code(), absl::StatusCode::kInvalidArgument) << what;
  }
}

TEST(DecodeFuzzTest, RandomBytes) {
  std::mt19937 rng(42);
  for (int i = 0; i < 3000; ++i) {
    std::string bytes(rng() % 600, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    // A third stay random, a third look like JPEG, a third like PNG.
    if (i % 3 == 1 && bytes.size() >= 3) bytes.replace(0, 3, "\xFF\xD8\xFF");
    if (i % 3 == 2 && bytes.size() >= 8) bytes.replace(0, 8, "\x89PNG\r\n\x1A\n");
    ExpectDecodesOrFails(bytes, absl::StrCat("random input ", i));
  }
}

TEST(DecodeFuzzTest, MutatedImages) {
  const std::vector<uint8_t> rgb = Gradient(kWidth, kHeight);
  const std::vector<std::string> seeds = {
      Jpeg(),
      Jpeg(80, true),
      testdata::EncodeCmykJpeg(rgb.data(), kWidth, kHeight, 80),
      testdata::EncodeGrayJpeg(ToGray(rgb).data(), kWidth, kHeight, 80),
      Png(3),
      Png(4),
      ReadTestdata("interlaced_rgb_5x3.png"),
      ReadTestdata("palette4_trns_4x1.png"),
      ReadTestdata("rgb16_3x2.png")};
  std::mt19937 rng(7);
  for (size_t s = 0; s < seeds.size(); ++s) {
    for (int i = 0; i < 800; ++i) {
      std::string bytes = seeds[s];
      const int flips = 1 + rng() % 4;
      for (int f = 0; f < flips; ++f) {
        // Mostly in the headers, where mutations do the most damage.
        const size_t limit = (rng() % 2 == 0) ? std::min<size_t>(bytes.size(), 400) : bytes.size();
        bytes[rng() % limit] = static_cast<char>(rng());
      }
      ExpectDecodesOrFails(bytes, absl::StrCat("seed ", s, " mutation ", i));
    }
  }
}

}  // namespace
}  // namespace forge
