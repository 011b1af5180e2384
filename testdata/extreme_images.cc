#include "testdata/extreme_images.h"

#include <cstdint>
#include <string>
#include <vector>

#include "testdata/image_writers.h"

namespace forge::testdata {
namespace {

std::vector<uint8_t> Pattern(int width, int height) {
  std::vector<uint8_t> rgb(static_cast<size_t>(width) * height * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>((i * 7) ^ (i >> 9));
  return rgb;
}

ExtremeImage Make(const std::string& stem, int width, int height, bool png) {
  const std::vector<uint8_t> rgb = Pattern(width, height);
  ExtremeImage image;
  image.name = stem + (png ? ".png" : ".JPEG");
  image.bytes = png ? EncodePng(rgb.data(), width, height, 3)
                    : EncodeJpeg(rgb.data(), width, height, /*quality=*/90);
  image.width = width;
  image.height = height;
  return image;
}

}  // namespace

const std::vector<ExtremeImage>& ExtremeImages() {
  static const std::vector<ExtremeImage>* images = new std::vector<ExtremeImage>{
      Make("one_pixel_1x1", 1, 1, false),        Make("one_pixel_1x1", 1, 1, true),
      Make("tall_2x20000", 2, 20000, false),     Make("tall_2x20000", 2, 20000, true),
      Make("too_wide_70000x1", 70000, 1, true),  Make("wide_20000x2", 20000, 2, false),
      Make("wide_20000x2", 20000, 2, true),
  };
  return *images;
}

}  // namespace forge::testdata
