#include "lib/image/encode.h"

#include <turbojpeg.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace forge {
namespace {

// JPEG stores each side in 16 bits.
constexpr int kMaxJpegSide = 65535;

struct HandleDeleter {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using Handle = std::unique_ptr<void, HandleDeleter>;

struct BufferDeleter {
  void operator()(unsigned char* buffer) const { tjFree(buffer); }
};

// One compressor per thread: a handle is not thread-safe, and creating one per image costs
// more than a small image's encoding.
tjhandle ThreadCompressor() {
  thread_local Handle handle(tjInitCompress());
  return handle.get();
}

}  // namespace

absl::StatusOr<std::string> EncodeJpeg(const Image& image, const JpegEncodeOptions& options) {
  if (image.width <= 0 || image.height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot encode an empty image (", image.width, "x", image.height, ")"));
  }
  if (image.width > kMaxJpegSide || image.height > kMaxJpegSide) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot encode a ", image.width, "x", image.height,
                     " image as JPEG: sides are limited to ", kMaxJpegSide));
  }
  if (image.pixels.size() != image.RowBytes() * static_cast<size_t>(image.height)) {
    return absl::InvalidArgumentError(absl::StrCat("image of ", image.width, "x", image.height,
                                                   " holds ", image.pixels.size(),
                                                   " bytes instead of width * height * 3"));
  }
  if (options.quality < 1 || options.quality > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("JPEG quality must be in 1..100, got ", options.quality));
  }
  tjhandle handle = ThreadCompressor();
  if (handle == nullptr) {
    return absl::InternalError(absl::StrCat("tjInitCompress: ", tjGetErrorStr2(nullptr)));
  }
  unsigned char* jpeg = nullptr;
  unsigned long jpeg_size = 0;
  const int rc =
      tjCompress2(handle, image.pixels.data(), image.width, /*pitch=*/0, image.height, TJPF_RGB,
                  &jpeg, &jpeg_size, TJSAMP_420, options.quality, TJFLAG_ACCURATEDCT);
  std::unique_ptr<unsigned char, BufferDeleter> owned(jpeg);
  if (rc != 0) return absl::InternalError(absl::StrCat("tjCompress2: ", tjGetErrorStr2(handle)));
  return std::string(reinterpret_cast<const char*>(jpeg), jpeg_size);
}

}  // namespace forge
