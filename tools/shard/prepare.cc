#include "tools/shard/prepare.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "lib/image/decode.h"
#include "lib/image/encode.h"
#include "lib/image/image.h"
#include "lib/image/resize.h"

namespace forge {

std::pair<int, int> DownscaledSize(int width, int height, int max_side) {
  const int longer = std::max(width, height);
  if (max_side <= 0 || longer <= max_side) return {width, height};
  auto scale = [&](int side) {
    if (side == longer) return max_side;
    const int64_t scaled =
        (2 * static_cast<int64_t>(side) * max_side + longer) / (2 * static_cast<int64_t>(longer));
    return static_cast<int>(std::max<int64_t>(1, scaled));
  };
  return {scale(width), scale(height)};
}

absl::StatusOr<PreparedImage> PrepareImage(std::string bytes, const PrepareOptions& options) {
  DecodeOptions decode_options;
  decode_options.max_pixels = options.max_pixels;
  absl::StatusOr<Image> image = DecodeImage(bytes, decode_options);
  if (!image.ok()) return image.status();
  // DecodeImage read the header already, so this cannot fail on bytes it accepted.
  absl::StatusOr<ImageHeader> header = ReadImageHeader(bytes);
  if (!header.ok()) return header.status();

  PreparedImage prepared;
  const auto [width, height] = DownscaledSize(image->width, image->height, options.max_side);
  prepared.width = width;
  prepared.height = height;
  prepared.reencoded = width != image->width || height != image->height;
  prepared.converted = header->format != ImageFormat::kJpeg ||
                       header->color_space != ColorSpace::kYCbCr || header->components != 3;
  if (!prepared.converted && !prepared.reencoded) {
    prepared.jpeg = std::move(bytes);
    return prepared;
  }
  // What is re-encoded is bounded like any resize output (and so fits in a JPEG); the pixels
  // come from the decoder's limit, which --max_pixels=0 lifts.
  if (absl::Status status = CheckImageSize(width, height); !status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot re-encode: ", status.message()));
  }
  if (prepared.reencoded) *image = Resize(*image, width, height);
  absl::StatusOr<std::string> jpeg = EncodeJpeg(*image, {.quality = options.quality});
  if (!jpeg.ok()) return jpeg.status();
  prepared.jpeg = std::move(*jpeg);
  return prepared;
}

}  // namespace forge
