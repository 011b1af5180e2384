// Decoding JPEG and PNG bytes held in memory into RGB images, pixel for pixel as Pillow's
// Image.open(...).convert("RGB") does, and reading image headers without decoding pixels.
//
// Format always comes from the bytes, never from a file name (ImageNet has a PNG named .JPEG).
// Errors never name a file (these functions never know it): callers add it, e.g.
//   absl::StatusOr<Image> image = DecodeImage(bytes);
//   if (!image.ok()) {
//     return absl::Status(image.status().code(), absl::StrCat(path, ": ", image.status().message()));
//   }
#ifndef FORGE_LIB_IMAGE_DECODE_H_
#define FORGE_LIB_IMAGE_DECODE_H_

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

// Sets of libjpeg DCT scales k/8 for DecodeOptions::region_scales: bit k - 1 stands for k/8.
constexpr uint8_t kAllRegionScales = 0xFF;
// 1/8, 2/8, 4/8 and 8/8: the scales libjpeg-turbo has SIMD IDCTs for. The others (3/8, 5/8,
// 6/8, 7/8) run C IDCTs, for 4:2:0 chroma at twice the size (6/8 -> 12x12), which costs
// more than decoding at 8/8 and resizing more (about 35% slower on ImageNet-sized photos).
constexpr uint8_t kSimdRegionScales = 0x8B;

struct DecodeOptions {
  // Decompression-bomb limit: images with more than this many pixels (width * height) are
  // refused from their header, before any pixel is decoded or any pixel buffer allocated.
  // The default is Pillow's (2 * Image.MAX_IMAGE_PIXELS). <= 0 disables the check.
  int64_t max_pixels = 178956970;
  // DecodeRegion only: the DCT scales it may choose from (8/8 always stays allowed).
  uint8_t region_scales = kAllRegionScales;
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

// A rectangle of an image in pixels: columns [x, x + width), rows [y, y + height).
struct ImageRegion {
  int x = 0, y = 0, width = 0, height = 0;
};

// The libjpeg DCT scale k/8 DecodeRegion uses: the smallest k in `scales` (a set of
// DecodeOptions::region_scales; 8 is always in it) at which a region_width x region_height
// region, scaled by k/8, is still at least min_width x min_height; 8 when even the full size
// is smaller.
int RegionScaleEighths(int region_width, int region_height, int min_width, int min_height,
                       uint8_t scales = kAllRegionScales);

// The pixels of `region` (in full-resolution coordinates) of a JPEG or PNG image, decoding
// only what the region needs, for training-time random crops:
// - JPEG: decoded at the DCT scale k/8 of RegionScaleEighths(region.width, region.height,
//   min_width, min_height, options.region_scales), through libjpeg's jpeg_crop_scanline (only
//   the iMCU columns the region touches, plus one chroma sample on each side for the fancy
//   upsampling, are dequantised, transformed and converted) and jpeg_skip_scanlines (rows
//   above the region are entropy-decoded only), stopping after the region's last row. The
//   result is the scaled region [round(x * k / 8), round((x + width) * k / 8)) x likewise for
//   rows (halves rounded up, at least 1 pixel), so about k/8 of the region's size. At k = 8
//   its pixels are exactly those of DecodeImage(bytes) cropped to `region`; at k < 8 they are
//   libjpeg's scaled IDCT, close to (not equal to) a Pillow resize of that crop. Colour
//   spaces are converted as DecodeImage does.
// - PNG: decoded in full, then cropped (never scaled).
// Fails as DecodeImage does (data missing from a truncated file is an error only if the
// region needs it; a progressive JPEG needs all of its data), and with InvalidArgumentError
// when the region is empty or not inside the image.
absl::StatusOr<Image> DecodeRegion(absl::string_view bytes, const ImageRegion& region,
                                   int min_width, int min_height,
                                   const DecodeOptions& options = {});

// DecodeRegion into `*image`, reusing its memory when it holds enough: a loop that decodes
// many regions into one Image allocates only for a region larger than all before (and so
// touches no fresh pages). Same pixels and errors; after an error *image is unspecified.
absl::Status DecodeRegion(absl::string_view bytes, const ImageRegion& region, int min_width,
                          int min_height, const DecodeOptions& options, Image* image);

}  // namespace forge

#endif  // FORGE_LIB_IMAGE_DECODE_H_
