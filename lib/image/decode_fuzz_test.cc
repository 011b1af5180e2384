// Fuzzes JPEG and PNG decoding: the header reader, full decoding and region decoding, under a
// pixel limit. The input is the file, as is (so corpus and crashes are plain image files); the
// limit and the region are drawn from a hash of it, so every mutation also moves them.
// Properties: a decoded image has the header's size; a region decoded at full scale has exactly
// the pixels of the full decode cropped to it (decode.h's promise).
#include <cstdint>
#include <cstring>
#include <string>

#include <random>

#include "glog/logging.h"
#include "lib/fuzzing/fuzz_target.h"
#include "lib/image/decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes = forge::AsStringView(data, size);
  std::mt19937_64 draw(forge::FuzzInputHash(bytes));
  forge::DecodeOptions options;
  // Small enough that no input makes the fuzzer allocate hundreds of megabytes.
  options.max_pixels = draw() % 4 != 0 ? 4 << 20 : 1 + draw() % 4096;
  options.region_scales = static_cast<uint8_t>(draw());
  forge::ImageRegion region;
  region.x = draw() % 65536;
  region.y = draw() % 65536;
  region.width = draw() % 65536;
  region.height = draw() % 65536;
  const int min_side = 1 + draw() % 512;

  (void)forge::DetectFormat(bytes);
  absl::StatusOr<forge::ImageHeader> header = forge::ReadImageHeader(bytes);
  absl::StatusOr<forge::Image> image = forge::DecodeImage(bytes, options);
  if (image.ok()) {
    CHECK(header.ok()) << header.status();
    CHECK_EQ(image->width, header->width);
    CHECK_EQ(image->height, header->height);
    CHECK_EQ(image->pixels.size(), size_t{3} * image->width * image->height);
  }
  if (!header.ok()) return 0;
  // Mostly regions inside the image (the loader's case), sometimes as drawn.
  if (region.x % 8 != 0) {
    region.x %= header->width;
    region.y %= header->height;
    region.width = 1 + region.width % (header->width - region.x);
    region.height = 1 + region.height % (header->height - region.y);
  }
  absl::StatusOr<forge::Image> crop = forge::DecodeRegion(bytes, region, min_side, min_side, options);
  if (!crop.ok() || !image.ok()) return 0;
  const int scale = forge::RegionScaleEighths(region.width, region.height, min_side, min_side, options.region_scales);
  if (scale != 8 && header->format == forge::ImageFormat::kJpeg) return 0;
  CHECK_EQ(crop->width, region.width);
  CHECK_EQ(crop->height, region.height);
  for (int y = 0; y < region.height; ++y) {
    CHECK_EQ(0, std::memcmp(crop->Row(y), image->Row(region.y + y) + size_t{3} * region.x, crop->RowBytes()))
        << "row " << y << " of region " << region.x << "," << region.y << " " << region.width << "x" << region.height;
  }
  return 0;
}
