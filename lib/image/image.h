// An 8-bit RGB image in memory: the one pixel format that lib/image hands out.
#ifndef FORGE_LIB_IMAGE_IMAGE_H_
#define FORGE_LIB_IMAGE_IMAGE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace forge {

// Pixels are RGB, 3 bytes per pixel, row-major, rows packed without padding:
// the byte for channel c of pixel (x, y) is pixels[(y * width + x) * 3 + c].
//
//   Image image(2, 1);          // black 2x1 image
//   image.Row(0)[3] = 255;      // pixel (1, 0) red
struct Image {
  static constexpr int kChannels = 3;

  Image() = default;
  // A zero-filled (black) image of the given size.
  Image(int width, int height)
      : width(width),
        height(height),
        pixels(static_cast<size_t>(width) * static_cast<size_t>(height) * kChannels) {}

  // Bytes in one row: width * 3.
  size_t RowBytes() const { return static_cast<size_t>(width) * kChannels; }
  // First byte of row y; y must be in [0, height).
  uint8_t* Row(int y) { return pixels.data() + static_cast<size_t>(y) * RowBytes(); }
  const uint8_t* Row(int y) const { return pixels.data() + static_cast<size_t>(y) * RowBytes(); }

  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;
};

}  // namespace forge

#endif  // FORGE_LIB_IMAGE_IMAGE_H_
