// Encoding RGB images as JPEG (TurboJPEG), for tools that normalise or downscale images before
// storing them, e.g. `shard`.
#ifndef FORGE_LIB_IMAGE_ENCODE_H_
#define FORGE_LIB_IMAGE_ENCODE_H_

#include <string>

#include "absl/status/statusor.h"
#include "lib/image/image.h"

namespace forge {

struct JpegEncodeOptions {
  // libjpeg quality scale, 1..100. Default 90.
  int quality = 90;
};

// Returns a baseline JFIF JPEG of `image`: YCbCr with 4:2:0 chroma subsampling, the accurate
// integer DCT and standard Huffman tables (what Pillow writes by default). The same pixels and
// options always give the same bytes.
//
//   absl::StatusOr<std::string> jpeg = EncodeJpeg(image, {.quality = 90});
//
// Fails with InvalidArgument for an empty image (a side <= 0), a side above JPEG's 65535, a
// pixel buffer whose size is not width * height * 3, or a quality outside 1..100; with Internal
// if TurboJPEG fails (its message included).
absl::StatusOr<std::string> EncodeJpeg(const Image& image, const JpegEncodeOptions& options = {});

}  // namespace forge

#endif  // FORGE_LIB_IMAGE_ENCODE_H_
