// Times lib/image's per-image work for dataset statistics on an ImageNet-sized photo:
// DecodeImage, ResizeShorterSide(256) and CenterCrop(224). Prints milliseconds per call.
//   bazel run //lib/image:image_benchmark
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/image/decode.h"
#include "lib/image/image.h"
#include "lib/image/resize.h"
#include "testdata/image_writers.h"

namespace forge {
namespace {

// 500x375 with gradients and per-pixel noise, so that the JPEG is about as costly to decode
// as a camera photo of that size (smooth synthetic images decode much faster).
std::vector<uint8_t> PhotoLike(int width, int height) {
  std::mt19937 rng(1);
  std::vector<uint8_t> rgb(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) {
        const int base = (x * (c + 1) + y * (3 - c)) / 3 % 256;
        const int v = base + static_cast<int>(rng() % 41) - 20;
        rgb[(static_cast<size_t>(y) * width + x) * 3 + c] = static_cast<uint8_t>(v < 0     ? 0
                                                                                 : v > 255 ? 255
                                                                                           : v);
      }
    }
  }
  return rgb;
}

template <typename F>
double MillisecondsPerCall(int calls, F f) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) f();
  const std::chrono::duration<double, std::milli> elapsed =
      std::chrono::steady_clock::now() - start;
  return elapsed.count() / calls;
}

int Main() {
  constexpr int kWidth = 500, kHeight = 375, kCalls = 200;
  const std::vector<uint8_t> rgb = PhotoLike(kWidth, kHeight);
  const std::string jpeg = testdata::EncodeJpeg(rgb.data(), kWidth, kHeight, 90);
  std::printf("input: %dx%d JPEG, %zu bytes\n", kWidth, kHeight, jpeg.size());

  Image image;
  const double decode_ms = MillisecondsPerCall(kCalls, [&] {
    absl::StatusOr<Image> decoded = DecodeImage(jpeg);
    if (decoded.ok()) image = *std::move(decoded);
  });
  if (image.width != kWidth) {
    std::fprintf(stderr, "decode failed\n");
    return 1;
  }
  Image resized;
  const double resize_ms =
      MillisecondsPerCall(kCalls, [&] { resized = ResizeShorterSide(image, 256).value(); });
  Image cropped;
  const double crop_ms =
      MillisecondsPerCall(kCalls, [&] { cropped = CenterCrop(resized, 224, 224); });
  std::printf("DecodeImage             %7.3f ms\n", decode_ms);
  std::printf("ResizeShorterSide(256)  %7.3f ms  (%dx%d)\n", resize_ms, resized.width,
              resized.height);
  std::printf("CenterCrop(224)         %7.3f ms\n", crop_ms);
  return 0;
}

}  // namespace
}  // namespace forge

int main() { return forge::Main(); }
