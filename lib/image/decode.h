// Decoding JPEG and PNG bytes held in memory into RGB images, pixel for pixel as Pillow's
// Image.open(...).convert("RGB") does, and reading image headers without decoding pixels.
//
// Format always comes from the bytes, never from a file name (ImageNet has a PNG named .JPEG).
// Errors never name a file (these functions never know it): callers add it, e.g.
//   absl::StatusOr<Image> image = DecodeImage(bytes);
//   if (!image.ok()) return AnnotateStatus(image.status(), path);
#ifndef RESNET_FORGE_LIB_IMAGE_DECODE_H_
#define RESNET_FORGE_LIB_IMAGE_DECODE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/image/image.h"

namespace forge {

enum class ImageFormat { kUnknown, kJpeg, kPng };

// The colour space of the stored samples, before any conversion to RGB.
enum class ColorSpace {
  kUnknown,    // JPEG with a component count or transform libjpeg cannot interpret
  kGray,       // JPEG or PNG, 1 component
  kGrayAlpha,  // PNG only
  kRgb,        // JPEG stored as RGB (Adobe transform 0 or JFIF-less 'R','G','B' ids), or PNG
  kRgba,       // PNG only
  kPalette,    // PNG only
  kYCbCr,      // JPEG, the usual case
  kCmyk,       // JPEG, 4 components without colour transform (Adobe transform 0)
  kYcck,       // JPEG, 4 components with Adobe transform 2
};

// "JPEG", "PNG" or "unknown".
const char* ImageFormatName(ImageFormat format);
// "gray", "gray+alpha", "RGB", "RGBA", "palette", "YCbCr", "CMYK", "YCCK" or "unknown".
const char* ColorSpaceName(ColorSpace color_space);

// The format recognised from the magic bytes at the start of `bytes`: FF D8 FF for JPEG, the
// 8-byte PNG signature for PNG, kUnknown for anything else (including empty or short input).
ImageFormat DetectFormat(absl::string_view bytes);

struct ImageHeader {
  ImageFormat format = ImageFormat::kUnknown;
  int width = 0;
  int height = 0;
  // Components stored in the file: 1 (gray or palette), 2 (gray+alpha), 3 or 4.
  int components = 0;
  // Bits per stored sample: always 8 for JPEG; 1, 2, 4, 8 or 16 for PNG.
  int bit_depth = 0;
  // JPEG: progressive (SOF2) coding. PNG: Adam7 interlacing.
  bool progressive = false;
  ColorSpace color_space = ColorSpace::kUnknown;
  // JPEG only: an Adobe APP14 marker is present (as Photoshop writes in CMYK files).
  bool adobe_marker = false;
};

// The header of a JPEG or PNG image. Cheap: reads markers/chunks up to the first scan or
// image data, never decodes pixels and allocates nothing proportional to the image size.
// Fails with InvalidArgumentError when the input is empty, of unknown format, truncated
// before the end of its header, or has a corrupt or zero-sized header.
absl::StatusOr<ImageHeader> ReadImageHeader(absl::string_view bytes);

struct DecodeOptions {
  // Decompression-bomb limit: images with more than this many pixels (width * height) are
  // refused from their header, before any pixel is decoded or any pixel buffer allocated.
  // The default is Pillow's (2 * Image.MAX_IMAGE_PIXELS). <= 0 disables the check.
  int64_t max_pixels = 178956970;
};

// Decodes a JPEG or PNG image into RGB, with exactly the pixels of Pillow's
// Image.open(...).convert("RGB"):
// - JPEG (libjpeg API, JDCT_ISLOW, fancy upsampling): baseline and progressive; grayscale is
//   replicated into R, G and B; CMYK and YCCK are converted as Pillow does, which treats the
//   stored samples as Adobe-inverted whether or not an APP14 marker is present:
//   R = round(C * K / 255) on the stored C and K, likewise G from M and B from Y.
//   Corrupt-data warnings that Pillow tolerates (e.g. extraneous bytes before a marker) are
//   tolerated; running out of data ("Premature end of JPEG file") is an error. A progressive
//   JPEG with more than 1000 scans is refused (no real encoder writes that many; each scan
//   costs a pass over the whole image).
// - PNG (libpng): every colour type and bit depth, interlaced or not. Alpha and tRNS
//   transparency are dropped (not composited), palettes expanded, gamma and colour profiles
//   ignored; 16-bit samples keep their high byte, except 16-bit grayscale without alpha,
//   which Pillow clamps to 255 (so 0x0100..0xFFFF all become 255).
// Fails with InvalidArgumentError when the input is empty, of unknown format, truncated,
// corrupt (the message includes libjpeg's or libpng's), zero-sized, or has more pixels than
// options.max_pixels.
absl::StatusOr<Image> DecodeImage(absl::string_view bytes, const DecodeOptions& options = {});

}  // namespace forge

#endif  // RESNET_FORGE_LIB_IMAGE_DECODE_H_
