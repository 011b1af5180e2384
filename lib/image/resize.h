// Resizing and cropping RGB images exactly as torchvision's Resize and CenterCrop do on PIL
// images, so that dataset statistics computed here match a Python/Pillow computation.
#ifndef FORGE_LIB_IMAGE_RESIZE_H_
#define FORGE_LIB_IMAGE_RESIZE_H_

#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/image/image.h"

namespace forge {

// Bounds on every image size computed from an image's dimensions (ResizeShorterSide here,
// callers' own targets through CheckImageSize): without them a valid image of extreme aspect
// ratio, say 20000 x 2, asks ResizeShorterSide(256) for 2,560,000 x 256 pixels (2 GB), and the
// failed allocation aborts the process. The pixel bound is the decoder's default
// decompression-bomb limit (DecodeOptions::max_pixels, Pillow's), so no resize produces more
// than a default decode may; the side bound is the largest side a JPEG can have (libjpeg's
// JPEG_MAX_DIMENSION), so whatever is resized can still be encoded.
inline constexpr int64_t kMaxImagePixels = 178956970;
inline constexpr int kMaxImageSide = 65500;

// OK when a width x height image is within kMaxImageSide and kMaxImagePixels and both sides
// are positive; otherwise InvalidArgumentError naming the size and the bound it breaks.
absl::Status CheckImageSize(int64_t width, int64_t height);

// `in` resized to out_width x out_height, bit-exact with Pillow 13's
// Image.resize((out_width, out_height), Image.BILINEAR) on an RGB image: a separable
// triangle filter, antialiased when downscaling (its support grows with the scale), in
// 22-bit fixed point, rounded to 8 bits after each pass; a dimension that keeps its size is
// not filtered. The horizontal pass runs first, except when the height loses more than twice
// as many pixels as the width (python-pillow/Pillow#9549, in 13.0.0); older releases always
// run it first and so differ, by rounding, on such images. Returns a copy when the size is
// unchanged.
// CHECK-fails unless `in` is non-empty and consistent and both output sizes are positive.
Image Resize(const Image& in, int out_width, int out_height);

// Resize(in, out_width, out_height), mirrored left-right when `mirror` (torchvision's
// RandomResizedCrop then RandomHorizontalFlip), written to `out`: out_width * out_height * 3
// bytes, rows packed, nothing outside them touched. Avoids Resize's output allocation, e.g.
// to write straight into a batch. CHECK-fails as Resize does.
void ResizeInto(const Image& in, int out_width, int out_height, bool mirror, uint8_t* out);

// For tests: whether Resize and ResizeInto may use AVX2 when the CPU has it (the default).
// Results are identical either way; tests compare the two paths. Not thread-safe.
void SetResizeSimdForTesting(bool enabled);

// The output size (width, height) of torchvision.transforms.Resize(size) on a width x height
// image: the shorter side becomes `size` and the longer one int(size * long / short),
// truncated (a square image becomes size x size). Fails with InvalidArgumentError when the
// input is empty or `size` is not positive, or when the output breaks CheckImageSize (e.g. a
// 20000 x 2 image at size 256).
absl::StatusOr<std::pair<int, int>> ShorterSideSize(int width, int height, int size);

// torchvision.transforms.Resize(size) (bilinear, antialiased) to ShorterSideSize(in.width,
// in.height, size), failing as it does. CHECK-fails unless `in` is consistent.
absl::StatusOr<Image> ResizeShorterSide(const Image& in, int size);

// torchvision.transforms.CenterCrop((height, width)): the width x height window whose
// top-left corner is at (round((W - width) / 2), round((H - height) / 2)), rounding halves
// to even as Python's round() does. A side shorter than the crop is first padded with black
// (zeros), (crop - side) / 2 before and the rest after, as torchvision pads. CHECK-fails
// unless `in` is consistent and width and height are positive.
Image CenterCrop(const Image& in, int width, int height);

}  // namespace forge

#endif  // FORGE_LIB_IMAGE_RESIZE_H_
