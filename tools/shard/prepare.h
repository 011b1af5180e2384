// What `shard` stores for one source image: its own bytes when they are already a YCbCr JPEG of
// acceptable size, otherwise an RGB JPEG re-encoded from its pixels.
#ifndef FORGE_TOOLS_SHARD_PREPARE_H_
#define FORGE_TOOLS_SHARD_PREPARE_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"

namespace forge {

struct PrepareOptions {
  int max_side = 0;                // > 0: downscale images whose longer side exceeds this
  int quality = 90;                // JPEG quality of re-encoded images, 1..100
  int64_t max_pixels = 178956970;  // decompression-bomb limit; <= 0 disables
};

struct PreparedImage {
  std::string jpeg;  // the bytes to store: always a 3-component (YCbCr) JPEG
  int width = 0;     // of the stored image
  int height = 0;
  bool converted = false;  // the source was not a YCbCr JPEG (CMYK, YCCK, gray, RGB JPEG, PNG)
  bool reencoded = false;  // the source was downscaled to max_side
};

// The size of a width x height image downscaled so that its longer side is `max_side`, keeping
// the aspect ratio: the other side is rounded to nearest (halves up), at least 1. Images whose
// longer side is at most `max_side`, or max_side <= 0, keep their size.
std::pair<int, int> DownscaledSize(int width, int height, int max_side);

// Decodes `bytes` (which validates them) and returns what to store:
// - a YCbCr JPEG (baseline or progressive) that needs no downscale: `bytes` untouched;
// - anything else that decodes: its pixels (as DecodeImage gives them, downscaled with the
//   antialiased bilinear Resize when needed) encoded as a JPEG at options.quality.
// Fails with InvalidArgument, the decoder's message, for empty, truncated, corrupt, unknown or
// oversized input, and when what would be re-encoded breaks CheckImageSize (lib/image/resize.h;
// e.g. a 100000 x 1 PNG, wider than a JPEG can be); never names a file (the caller knows it).
absl::StatusOr<PreparedImage> PrepareImage(std::string bytes, const PrepareOptions& options);

}  // namespace forge

#endif  // FORGE_TOOLS_SHARD_PREPARE_H_
