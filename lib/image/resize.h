// Resizing and cropping RGB images exactly as torchvision's Resize and CenterCrop do on PIL
// images, so that dataset statistics computed here match a Python/Pillow computation.
#ifndef RESNET_FORGE_LIB_IMAGE_RESIZE_H_
#define RESNET_FORGE_LIB_IMAGE_RESIZE_H_

#include <cstdint>

#include "lib/image/image.h"

namespace forge {

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

// torchvision.transforms.Resize(size) (bilinear, antialiased): the shorter side becomes
// `size` and the longer one int(size * long / short), truncated. A square image becomes
// size x size. CHECK-fails unless `in` is non-empty and size is positive.
Image ResizeShorterSide(const Image& in, int size);

// torchvision.transforms.CenterCrop((height, width)): the width x height window whose
// top-left corner is at (round((W - width) / 2), round((H - height) / 2)), rounding halves
// to even as Python's round() does. A side shorter than the crop is first padded with black
// (zeros), (crop - side) / 2 before and the rest after, as torchvision pads. CHECK-fails
// unless `in` is consistent and width and height are positive.
Image CenterCrop(const Image& in, int width, int height);

}  // namespace forge

#endif  // RESNET_FORGE_LIB_IMAGE_RESIZE_H_
