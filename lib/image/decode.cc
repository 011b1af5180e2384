// JPEG decoding through libjpeg(-turbo)'s libjpeg API and PNG decoding through libpng, both
// with error handlers that longjmp back to us, so that no input can print, exit or abort.
//
// setjmp/longjmp discipline: every function that calls setjmp holds no C++ object with a
// destructor and modifies no local variable it reads after the jump; all C++ state (buffers,
// messages) lives in objects constructed by the caller before the call.
#include "lib/image/decode.h"

#include <algorithm>
#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "lib/image/image.h"

// jpeglib.h needs FILE and size_t declared before it.
#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

namespace forge {
namespace {

// A progressive JPEG may hold any number of scans and each costs a pass over the whole
// coefficient buffer; real encoders write about 10. More than this is refused as an attack.
constexpr int kMaxJpegScans = 1000;

constexpr unsigned char kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

absl::Status EmptyInputError() { return absl::InvalidArgumentError("empty input (0 bytes)"); }

// Shows the first bytes in hex, and as text when they are printable, e.g. for an HTML error
// page saved under an image's name.
absl::Status UnknownFormatError(absl::string_view bytes) {
  constexpr size_t kShown = 8;
  const absl::string_view head = bytes.substr(0, kShown);
  std::string hex;
  std::string text;
  for (const char c : head) {
    const auto byte = static_cast<unsigned char>(c);
    absl::StrAppendFormat(&hex, "%s%02x", hex.empty() ? "" : " ", byte);
    text.push_back(byte >= 0x20 && byte < 0x7F ? c : '.');
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "unknown image format, neither JPEG nor PNG (%d bytes, starting with %s \"%s\"%s)",
      bytes.size(), hex, text, bytes.size() > kShown ? "..." : ""));
}

absl::Status CheckSize(ImageFormat format, int64_t width, int64_t height,
                       const DecodeOptions& options) {
  if (width <= 0 || height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s image has zero size (%dx%d)", ImageFormatName(format), width, height));
  }
  const int64_t pixels = width * height;
  if (options.max_pixels > 0 && pixels > options.max_pixels) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s image is %dx%d = %d pixels, more than the limit of %d pixels "
                        "(DecodeOptions::max_pixels; a decompression bomb?)",
                        ImageFormatName(format), width, height, pixels, options.max_pixels));
  }
  return absl::OkStatus();
}

// Sizes `image` to width x height, reusing its memory when it has enough (the pixels' values
// are then unspecified); a failure to allocate is an error, not a crash.
absl::Status ReshapeImage(int width, int height, Image* image) {
  try {
    image->pixels.resize(static_cast<size_t>(width) * static_cast<size_t>(height) *
                         Image::kChannels);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("cannot allocate a %dx%d RGB image", width, height));
  }
  image->width = width;
  image->height = height;
  return absl::OkStatus();
}

// Allocates the output; a failure (possible only with max_pixels disabled) is an error, not
// a crash.
absl::Status AllocateImage(int width, int height, Image* image) {
  try {
    *image = Image(width, height);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("cannot allocate a %dx%d RGB image", width, height));
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------------------------------------
// JPEG

// libjpeg's error manager extended with our jump target and the first error's message.
struct JpegErrorContext {
  jpeg_error_mgr pub;  // First member: libjpeg hands callbacks &pub, we cast it back.
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated;
  bool own_message;  // `message` is ours, not libjpeg's.
};

// Everything libjpeg needs for one image. Constructed (zeroed) before any setjmp, destroyed
// after the last longjmp could happen.
struct JpegDecoder {
  JpegDecoder() {
    std::memset(&cinfo, 0, sizeof(cinfo));
    std::memset(&err, 0, sizeof(err));
    std::memset(&progress, 0, sizeof(progress));
  }
  // Safe on a zeroed or half-created struct: jpeg_destroy checks cinfo.mem.
  ~JpegDecoder() { jpeg_destroy_decompress(&cinfo); }
  JpegDecoder(const JpegDecoder&) = delete;
  JpegDecoder& operator=(const JpegDecoder&) = delete;

  jpeg_decompress_struct cinfo;
  JpegErrorContext err;
  jpeg_progress_mgr progress;
};

JpegErrorContext* ErrorContext(j_common_ptr cinfo) {
  return reinterpret_cast<JpegErrorContext*>(cinfo->err);
}

[[noreturn]] void JpegErrorExit(j_common_ptr cinfo) {
  JpegErrorContext* context = ErrorContext(cinfo);
  (*cinfo->err->format_message)(cinfo, context->message);
  std::longjmp(context->jump, 1);
}

// msg_level -1 is a warning about corrupt data; >= 0 are trace messages. Pillow carries on
// after warnings, except that its reader fails when the data runs out, which libjpeg reports
// as the JWRN_JPEG_EOF warning (it would otherwise fill the rest of the image with grey).
void JpegEmitMessage(j_common_ptr cinfo, int msg_level) {
  if (msg_level >= 0) return;
  if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
    JpegErrorContext* context = ErrorContext(cinfo);
    context->truncated = true;
    JpegErrorExit(cinfo);
  }
  cinfo->err->num_warnings++;
}

// Never print.
void JpegOutputMessage(j_common_ptr) {}

void JpegProgressMonitor(j_common_ptr cinfo) {
  const auto* dinfo = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (dinfo->input_scan_number > kMaxJpegScans) {
    JpegErrorContext* context = ErrorContext(cinfo);
    std::snprintf(context->message, sizeof(context->message),
                  "progressive JPEG has more than %d scans, refused", kMaxJpegScans);
    context->own_message = true;
    std::longjmp(context->jump, 1);
  }
}

// Creates the decompressor and reads the header up to the first scan. Returns false after a
// libjpeg error, described in decoder->err.
bool JpegReadHeader(JpegDecoder* decoder, absl::string_view bytes) {
  j_decompress_ptr cinfo = &decoder->cinfo;
  cinfo->err = jpeg_std_error(&decoder->err.pub);
  decoder->err.pub.error_exit = JpegErrorExit;
  decoder->err.pub.emit_message = JpegEmitMessage;
  decoder->err.pub.output_message = JpegOutputMessage;
  if (setjmp(decoder->err.jump)) return false;
  jpeg_create_decompress(cinfo);
  decoder->progress.progress_monitor = JpegProgressMonitor;
  cinfo->progress = &decoder->progress;
  jpeg_mem_src(cinfo, reinterpret_cast<const unsigned char*>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(cinfo, /*require_image=*/TRUE);
  return true;
}

// Pillow's CMYK -> RGB on the samples as stored (Adobe-inverted): R = C * K / 255, rounded
// to nearest; ((t >> 8) + t) >> 8 with t = a * b + 128 is that rounding, exact for bytes.
inline uint8_t MulDiv255(unsigned a, unsigned b) {
  const unsigned t = a * b + 128;
  return static_cast<uint8_t>(((t >> 8) + t) >> 8);
}

void CmykRowToRgb(const uint8_t* cmyk, int width, uint8_t* rgb) {
  for (int x = 0; x < width; ++x, cmyk += 4, rgb += 3) {
    rgb[0] = MulDiv255(cmyk[0], cmyk[3]);
    rgb[1] = MulDiv255(cmyk[1], cmyk[3]);
    rgb[2] = MulDiv255(cmyk[2], cmyk[3]);
  }
}

// The decompression parameters of every decode: for CMYK/YCCK the samples come out as CMYK
// and CmykRowToRgb converts them, anything else libjpeg converts to RGB.
void JpegSetOutput(j_decompress_ptr cinfo, bool cmyk) {
  // Pillow leaves these at libjpeg's defaults; set them anyway since pixel equality with
  // Pillow depends on them.
  cinfo->dct_method = JDCT_ISLOW;
  cinfo->do_fancy_upsampling = TRUE;
  cinfo->do_block_smoothing = TRUE;
  cinfo->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
}

// Reads scanlines until output_scanline reaches `end`; scanline s lands in image row
// s - first_row. CMYK rows go through `cmyk_row` and are converted to RGB from column `cmyk_x`.
// libjpeg errors longjmp to the caller's setjmp.
void ReadScanlines(j_decompress_ptr cinfo, bool cmyk, uint8_t* cmyk_row, int cmyk_x, int first_row,
                   int end, Image* image) {
  while (static_cast<int>(cinfo->output_scanline) < end) {
    const int y = static_cast<int>(cinfo->output_scanline) - first_row;
    if (cmyk) {
      JSAMPROW row = cmyk_row;
      jpeg_read_scanlines(cinfo, &row, 1);
      CmykRowToRgb(cmyk_row + static_cast<size_t>(cmyk_x) * 4, image->width, image->Row(y));
    } else {
      constexpr int kMaxRows = 16;
      JSAMPROW rows[kMaxRows];
      const int n = std::min<int>(kMaxRows, image->height - y);
      for (int i = 0; i < n; ++i) rows[i] = image->Row(y + i);
      jpeg_read_scanlines(cinfo, rows, static_cast<JDIMENSION>(n));
    }
  }
}

// Decodes all scanlines into `image` (already sized). For CMYK/YCCK `cmyk_row` must hold
// width * 4 bytes. Returns false after a libjpeg error, described in decoder->err.
bool JpegDecodePixels(JpegDecoder* decoder, bool cmyk, Image* image, uint8_t* cmyk_row) {
  j_decompress_ptr cinfo = &decoder->cinfo;
  if (setjmp(decoder->err.jump)) return false;
  JpegSetOutput(cinfo, cmyk);
  jpeg_start_decompress(cinfo);
  ReadScanlines(cinfo, cmyk, cmyk_row, /*cmyk_x=*/0, /*first_row=*/0,
                static_cast<int>(cinfo->output_height), image);
  // Reads up to EOI, so that a file cut after its last scanline still counts as truncated.
  jpeg_finish_decompress(cinfo);
  return true;
}

absl::Status JpegError(const JpegDecoder& decoder) {
  if (decoder.err.own_message) return absl::InvalidArgumentError(decoder.err.message);
  if (decoder.err.truncated) {
    return absl::InvalidArgumentError(
        absl::StrCat("truncated JPEG data (libjpeg: ", decoder.err.message, ")"));
  }
  if (decoder.err.pub.msg_code == JERR_EMPTY_IMAGE) {
    return absl::InvalidArgumentError(
        absl::StrCat("JPEG image has zero size (libjpeg: ", decoder.err.message, ")"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("corrupt JPEG data (libjpeg: ", decoder.err.message, ")"));
}

ColorSpace FromJpegColorSpace(J_COLOR_SPACE space) {
  switch (space) {
    case JCS_GRAYSCALE:
      return ColorSpace::kGray;
    case JCS_RGB:
      return ColorSpace::kRgb;
    case JCS_YCbCr:
      return ColorSpace::kYCbCr;
    case JCS_CMYK:
      return ColorSpace::kCmyk;
    case JCS_YCCK:
      return ColorSpace::kYcck;
    default:
      return ColorSpace::kUnknown;
  }
}

ImageHeader JpegHeader(const jpeg_decompress_struct& cinfo) {
  ImageHeader header;
  header.format = ImageFormat::kJpeg;
  header.width = static_cast<int>(cinfo.image_width);
  header.height = static_cast<int>(cinfo.image_height);
  header.components = cinfo.num_components;
  header.bit_depth = cinfo.data_precision;
  header.progressive = cinfo.progressive_mode;
  header.color_space = FromJpegColorSpace(cinfo.jpeg_color_space);
  header.adobe_marker = cinfo.saw_Adobe_marker;
  return header;
}

// For headers: the zero-size check without the pixel limit.
DecodeOptions Unlimited() {
  DecodeOptions options;
  options.max_pixels = 0;
  return options;
}

absl::StatusOr<ImageHeader> ReadJpegHeader(absl::string_view bytes) {
  JpegDecoder decoder;
  if (!JpegReadHeader(&decoder, bytes)) return JpegError(decoder);
  ImageHeader header = JpegHeader(decoder.cinfo);
  if (absl::Status status = CheckSize(header.format, header.width, header.height, Unlimited());
      !status.ok()) {
    return status;
  }
  return header;
}

// Whether the samples of a JPEG with this header go through CMYK (CMYK and YCCK) rather than
// straight to RGB; an error for colour spaces libjpeg cannot interpret.
absl::StatusOr<bool> JpegNeedsCmyk(const ImageHeader& header) {
  switch (header.color_space) {
    case ColorSpace::kGray:
    case ColorSpace::kRgb:
    case ColorSpace::kYCbCr:
      return false;
    case ColorSpace::kCmyk:
    case ColorSpace::kYcck:
      return true;
    default:
      return absl::InvalidArgumentError(
          absl::StrFormat("unsupported JPEG colour space (%d components)", header.components));
  }
}

absl::StatusOr<Image> DecodeJpeg(absl::string_view bytes, const DecodeOptions& options) {
  JpegDecoder decoder;
  if (!JpegReadHeader(&decoder, bytes)) return JpegError(decoder);
  const ImageHeader header = JpegHeader(decoder.cinfo);
  if (absl::Status status = CheckSize(header.format, header.width, header.height, options);
      !status.ok()) {
    return status;
  }
  const absl::StatusOr<bool> needs_cmyk = JpegNeedsCmyk(header);
  if (!needs_cmyk.ok()) return needs_cmyk.status();
  const bool cmyk = *needs_cmyk;
  Image image;
  if (absl::Status status = AllocateImage(header.width, header.height, &image); !status.ok()) {
    return status;
  }
  std::vector<uint8_t> cmyk_row(cmyk ? static_cast<size_t>(header.width) * 4 : 0);
  if (!JpegDecodePixels(&decoder, cmyk, &image, cmyk_row.data())) return JpegError(decoder);
  return image;
}

absl::Status CheckRegion(const ImageRegion& region, int width, int height) {
  // In 64 bits: x + width may overflow an int for absurd regions.
  if (region.width <= 0 || region.height <= 0 || region.x < 0 || region.y < 0 ||
      int64_t{region.x} + region.width > width || int64_t{region.y} + region.height > height) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "region %dx%d at (%d, %d) is empty or not inside the %dx%d image", region.width,
        region.height, region.x, region.y, width, height));
  }
  return absl::OkStatus();
}

// round(value * eighths / 8), halves up, for value >= 0.
int ScaleRounded(int value, int eighths) {
  return static_cast<int>((int64_t{value} * eighths + 4) / 8);
}

// Where a region decode reads in libjpeg's scaled output.
struct JpegRegionPlan {
  int eighths = 8;  // The DCT scale k of k/8.
  // The region in scaled output pixels: columns [x0, x1), rows [y0, y1).
  int x0 = 0, x1 = 0, y0 = 0, y1 = 0;
  // The columns libjpeg decodes, as jpeg_crop_scanline widened them to whole iMCUs.
  int crop_x = 0, crop_width = 0;
};

// The region in scaled coordinates (see DecodeRegion), inside the output_width x
// output_height scaled image and at least 1 pixel in each direction.
void ScaleRegion(const ImageRegion& region, int output_width, int output_height,
                 JpegRegionPlan* plan) {
  const auto scale = [&](int begin, int size, int limit, int* out_begin, int* out_end) {
    int b = std::min(ScaleRounded(begin, plan->eighths), limit - 1);
    int e = std::min(ScaleRounded(begin + size, plan->eighths), limit);
    if (e <= b) e = b + 1;
    *out_begin = b;
    *out_end = e;
  };
  scale(region.x, region.width, output_width, &plan->x0, &plan->x1);
  scale(region.y, region.height, output_height, &plan->y0, &plan->y1);
}

// Sets the scale, starts decompression (which reads all of a progressive JPEG's scans), fills
// in `plan` and restricts decoding to the columns the region needs. Returns false after a
// libjpeg error, described in decoder->err.
bool JpegStartRegion(JpegDecoder* decoder, bool cmyk, const ImageRegion& region,
                     JpegRegionPlan* plan) {
  j_decompress_ptr cinfo = &decoder->cinfo;
  if (setjmp(decoder->err.jump)) return false;
  JpegSetOutput(cinfo, cmyk);
  cinfo->scale_num = static_cast<unsigned int>(plan->eighths);
  cinfo->scale_denom = 8;
  jpeg_start_decompress(cinfo);
  ScaleRegion(region, static_cast<int>(cinfo->output_width),
              static_cast<int>(cinfo->output_height), plan);
  // libjpeg's fancy upsampling treats the edges of the cropped columns as image edges,
  // replicating the outermost chroma sample instead of reading its neighbour. A margin of
  // one chroma sample's width on each side (at most max_h_samp_factor output pixels, at any
  // scale) keeps that away from the region, so its pixels stay those of a full decode.
  int margin = cinfo->max_h_samp_factor;
  // A progressive JPEG whose scans leave coefficients unsent is block-smoothed (libjpeg's
  // default, which Pillow keeps): missing AC terms are estimated from the DC terms of blocks up
  // to two columns away, and the first cropped column counts as the image's edge. Two more
  // iMCU columns (each max_h_samp_factor blocks of `eighths` pixels) keep that away too.
  if (cinfo->progressive_mode) margin += 2 * cinfo->max_h_samp_factor * plan->eighths;
  const int crop_begin = std::max(0, plan->x0 - margin);
  const int crop_end = std::min(static_cast<int>(cinfo->output_width), plan->x1 + margin);
  JDIMENSION crop_x = static_cast<JDIMENSION>(crop_begin);
  JDIMENSION crop_width = static_cast<JDIMENSION>(crop_end - crop_begin);
  if (crop_width < cinfo->output_width) jpeg_crop_scanline(cinfo, &crop_x, &crop_width);
  plan->crop_x = static_cast<int>(crop_x);
  plan->crop_width = static_cast<int>(crop_width);
  return true;
}

// Skips the rows above the region, reads rows [plan.y0, plan.y1) and stops. RGB rows land in
// `image` (plan.crop_width wide, one row per region row), CMYK rows go through `cmyk_row`
// (plan.crop_width * 4 bytes) and are converted into `image` (the region's exact width).
// Returns false after a libjpeg error, described in decoder->err.
bool JpegReadRegion(JpegDecoder* decoder, const JpegRegionPlan& plan, bool cmyk, Image* image,
                    uint8_t* cmyk_row) {
  j_decompress_ptr cinfo = &decoder->cinfo;
  if (setjmp(decoder->err.jump)) return false;
  if (plan.y0 > 0) jpeg_skip_scanlines(cinfo, static_cast<JDIMENSION>(plan.y0));
  ReadScanlines(cinfo, cmyk, cmyk_row, plan.x0 - plan.crop_x, plan.y0, plan.y1, image);
  // The rest of the file is never read: neither decoded nor checked.
  jpeg_abort_decompress(cinfo);
  return true;
}

// Keeps columns [x, x + width) of every row of `image`, in place.
void CropColumnsInPlace(int x, int width, Image* image) {
  const size_t in_row = image->RowBytes();
  const size_t out_row = static_cast<size_t>(width) * Image::kChannels;
  uint8_t* pixels = image->pixels.data();
  // Row y moves from y * in_row + x * 3 to y * out_row <= that: front to back never overwrites
  // bytes still to be moved.
  for (int y = 0; y < image->height; ++y) {
    std::memmove(pixels + y * out_row, pixels + y * in_row + static_cast<size_t>(x) * 3, out_row);
  }
  image->width = width;
  image->pixels.resize(out_row * image->height);
}

absl::Status DecodeJpegRegion(absl::string_view bytes, const ImageRegion& region,
                              int min_width, int min_height, const DecodeOptions& options,
                              Image* image) {
  JpegDecoder decoder;
  if (!JpegReadHeader(&decoder, bytes)) return JpegError(decoder);
  const ImageHeader header = JpegHeader(decoder.cinfo);
  if (absl::Status status = CheckSize(header.format, header.width, header.height, options);
      !status.ok()) {
    return status;
  }
  if (absl::Status status = CheckRegion(region, header.width, header.height); !status.ok()) {
    return status;
  }
  const absl::StatusOr<bool> needs_cmyk = JpegNeedsCmyk(header);
  if (!needs_cmyk.ok()) return needs_cmyk.status();
  const bool cmyk = *needs_cmyk;

  JpegRegionPlan plan;
  plan.eighths =
      RegionScaleEighths(region.width, region.height, min_width, min_height, options.region_scales);
  if (!JpegStartRegion(&decoder, cmyk, region, &plan)) return JpegError(decoder);
  // RGB: libjpeg writes the widened columns straight into the image, cut down afterwards.
  const int decoded_width = cmyk ? plan.x1 - plan.x0 : plan.crop_width;
  if (absl::Status status = ReshapeImage(decoded_width, plan.y1 - plan.y0, image); !status.ok()) {
    return status;
  }
  std::vector<uint8_t> cmyk_row(cmyk ? static_cast<size_t>(plan.crop_width) * 4 : 0);
  if (!JpegReadRegion(&decoder, plan, cmyk, image, cmyk_row.data())) return JpegError(decoder);
  if (!cmyk && plan.crop_width != plan.x1 - plan.x0) {
    CropColumnsInPlace(plan.x0 - plan.crop_x, plan.x1 - plan.x0, image);
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------------------------------------
// PNG

// Our side of libpng's callbacks: the input and the first error.
struct PngContext {
  absl::string_view bytes;
  size_t offset = 0;
  bool truncated = false;
  // Plain arrays: the callbacks run inside libpng, where nothing may throw.
  char message[256] = {};
  // The first warning: libpng often explains an error in a warning just before it, e.g.
  // "Image width is zero in IHDR" before "Invalid IHDR data".
  char warning[256] = {};
};

[[noreturn]] void PngErrorCallback(png_structp png, png_const_charp message) {
  auto* context = static_cast<PngContext*>(png_get_error_ptr(png));
  std::snprintf(context->message, sizeof(context->message), "%s",
                message != nullptr ? message : "unknown error");
  png_longjmp(png, 1);
}

// Warnings (bad ancillary chunks, extra data, ...) do not stop decoding, as in Pillow; the
// first is kept to explain a later error.
void PngWarning(png_structp png, png_const_charp message) {
  auto* context = static_cast<PngContext*>(png_get_error_ptr(png));
  if (context->warning[0] == '\0' && message != nullptr) {
    std::snprintf(context->warning, sizeof(context->warning), "%s", message);
  }
}

void PngRead(png_structp png, png_bytep out, size_t length) {
  auto* context = static_cast<PngContext*>(png_get_io_ptr(png));
  if (length > context->bytes.size() - context->offset) {
    context->truncated = true;
    png_error(png, "unexpected end of PNG data");
  }
  std::memcpy(out, context->bytes.data() + context->offset, length);
  context->offset += length;
}

// libpng's read and info structs for one image.
struct PngDecoder {
  PngDecoder() = default;
  ~PngDecoder() {
    if (png != nullptr) png_destroy_read_struct(&png, &info, nullptr);
  }
  PngDecoder(const PngDecoder&) = delete;
  PngDecoder& operator=(const PngDecoder&) = delete;

  png_structp png = nullptr;
  png_infop info = nullptr;
  PngContext context;
};

// Reads the chunks up to the first IDAT. Returns false after a libpng error, described in
// decoder->context.
bool PngReadInfo(PngDecoder* decoder) {
  if (setjmp(png_jmpbuf(decoder->png))) return false;
  png_set_read_fn(decoder->png, &decoder->context, PngRead);
  png_read_info(decoder->png, decoder->info);
  return true;
}

absl::Status PngStatus(const PngDecoder& decoder) {
  if (decoder.context.truncated) return absl::InvalidArgumentError("truncated PNG data");
  const PngContext& context = decoder.context;
  return absl::InvalidArgumentError(absl::StrCat(
      "corrupt PNG data (libpng: ", context.message,
      context.warning[0] != '\0' ? absl::StrCat(", after warning: ", context.warning) : "", ")"));
}

// Creates libpng's structs and reads the header into `header`.
absl::Status PngStart(absl::string_view bytes, PngDecoder* decoder, ImageHeader* header) {
  decoder->context.bytes = bytes;
  decoder->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &decoder->context, PngErrorCallback,
                                        PngWarning);
  if (decoder->png == nullptr) return absl::InternalError("png_create_read_struct failed");
  decoder->info = png_create_info_struct(decoder->png);
  if (decoder->info == nullptr) return absl::InternalError("png_create_info_struct failed");
  if (!PngReadInfo(decoder)) return PngStatus(*decoder);

  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
  png_get_IHDR(decoder->png, decoder->info, &width, &height, &bit_depth, &color_type, &interlace,
               nullptr, nullptr);
  header->format = ImageFormat::kPng;
  // libpng refuses widths and heights above 2^31 - 1 (PNG_UINT_31_MAX) in png_read_info.
  header->width = static_cast<int>(width);
  header->height = static_cast<int>(height);
  header->components = png_get_channels(decoder->png, decoder->info);
  header->bit_depth = bit_depth;
  header->progressive = interlace != PNG_INTERLACE_NONE;
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
      header->color_space = ColorSpace::kGray;
      break;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
      header->color_space = ColorSpace::kGrayAlpha;
      break;
    case PNG_COLOR_TYPE_RGB:
      header->color_space = ColorSpace::kRgb;
      break;
    case PNG_COLOR_TYPE_RGB_ALPHA:
      header->color_space = ColorSpace::kRgba;
      break;
    case PNG_COLOR_TYPE_PALETTE:
      header->color_space = ColorSpace::kPalette;
      break;
    default:
      header->color_space = ColorSpace::kUnknown;
  }
  return absl::OkStatus();
}

// Sets libpng's transformations and reads all rows into `rows`, each of which must hold
// png_get_rowbytes() after the transformations, that is `row_bytes`. Returns false after a
// libpng error; *row_bytes_mismatch is set instead if our layout computation disagrees with
// libpng's (a bug, reported rather than overrunning a buffer).
bool PngReadRows(PngDecoder* decoder, const ImageHeader& header, size_t row_bytes, png_bytepp rows,
                 bool* row_bytes_mismatch) {
  png_structp png = decoder->png;
  png_infop info = decoder->info;
  if (setjmp(png_jmpbuf(png))) return false;
  if (header.color_space == ColorSpace::kPalette) png_set_palette_to_rgb(png);
  if (header.bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  // Pillow keeps the high byte of 16-bit samples, except for plain grayscale, which it
  // decodes as a 16-bit integer image and clamps (see DecodePng).
  if (header.bit_depth == 16 && header.color_space != ColorSpace::kGray) png_set_strip_16(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != row_bytes) {
    *row_bytes_mismatch = true;
    return true;
  }
  png_read_image(png, rows);
  // png_read_end is not called: like Pillow, accept a file whose chunks after the image data
  // (IEND included) are missing.
  return true;
}

// Channels per row after PngReadRows's transformations: palette -> RGB(A), low-depth gray ->
// 8-bit gray; alpha and tRNS are kept by libpng and dropped by us.
int PngOutputChannels(const ImageHeader& header) {
  switch (header.color_space) {
    case ColorSpace::kGray:
      return 1;
    case ColorSpace::kGrayAlpha:
      return 2;
    case ColorSpace::kRgb:
      return 3;
    case ColorSpace::kRgba:
      return 4;
    default:
      return 0;  // Palette: depends on tRNS, so ask libpng.
  }
}

absl::StatusOr<ImageHeader> ReadPngHeader(absl::string_view bytes) {
  PngDecoder decoder;
  ImageHeader header;
  if (absl::Status status = PngStart(bytes, &decoder, &header); !status.ok()) return status;
  if (absl::Status status = CheckSize(header.format, header.width, header.height, Unlimited());
      !status.ok()) {
    return status;
  }
  return header;
}

absl::StatusOr<Image> DecodePng(absl::string_view bytes, const DecodeOptions& options) {
  PngDecoder decoder;
  ImageHeader header;
  if (absl::Status status = PngStart(bytes, &decoder, &header); !status.ok()) return status;
  if (absl::Status status = CheckSize(header.format, header.width, header.height, options);
      !status.ok()) {
    return status;
  }
  int channels = PngOutputChannels(header);
  if (channels == 0) {
    channels = png_get_valid(decoder.png, decoder.info, PNG_INFO_tRNS) ? 4 : 3;
  }
  const bool gray16 = header.color_space == ColorSpace::kGray && header.bit_depth == 16;
  const size_t sample_bytes = gray16 ? 2 : 1;
  const size_t row_bytes = static_cast<size_t>(header.width) * channels * sample_bytes;

  Image image;
  if (absl::Status status = AllocateImage(header.width, header.height, &image); !status.ok()) {
    return status;
  }
  // 8-bit RGB rows go straight into the image; anything else through a scratch buffer.
  const bool direct = channels == 3 && !gray16;
  std::vector<uint8_t> scratch;
  std::vector<png_bytep> rows(header.height);
  try {
    if (!direct) scratch.resize(row_bytes * header.height);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("cannot allocate %d bytes to decode a %dx%d PNG", row_bytes * header.height,
                        header.width, header.height));
  }
  for (int y = 0; y < header.height; ++y) {
    rows[y] = direct ? image.Row(y) : scratch.data() + row_bytes * y;
  }
  bool row_bytes_mismatch = false;
  if (!PngReadRows(&decoder, header, row_bytes, rows.data(), &row_bytes_mismatch)) {
    return PngStatus(decoder);
  }
  if (row_bytes_mismatch) {
    return absl::InternalError(
        absl::StrFormat("libpng's row size for a %s PNG of depth %d differs from ours",
                        ColorSpaceName(header.color_space), header.bit_depth));
  }
  if (direct) return image;

  for (int y = 0; y < header.height; ++y) {
    const uint8_t* in = rows[y];
    uint8_t* out = image.Row(y);
    for (int x = 0; x < header.width; ++x, out += 3) {
      if (gray16) {
        // Pillow: 16-bit gray is mode I;16, and I;16 -> RGB clamps to 255.
        const uint8_t v = in[0] == 0 ? in[1] : 255;  // Big-endian sample.
        out[0] = out[1] = out[2] = v;
        in += 2;
      } else if (channels <= 2) {
        out[0] = out[1] = out[2] = in[0];
        in += channels;
      } else {
        out[0] = in[0];
        out[1] = in[1];
        out[2] = in[2];
        in += channels;
      }
    }
  }
  return image;
}

}  // namespace

const char* ImageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "JPEG";
    case ImageFormat::kPng:
      return "PNG";
    case ImageFormat::kUnknown:
      break;
  }
  return "unknown";
}

const char* ColorSpaceName(ColorSpace color_space) {
  switch (color_space) {
    case ColorSpace::kGray:
      return "gray";
    case ColorSpace::kGrayAlpha:
      return "gray+alpha";
    case ColorSpace::kRgb:
      return "RGB";
    case ColorSpace::kRgba:
      return "RGBA";
    case ColorSpace::kPalette:
      return "palette";
    case ColorSpace::kYCbCr:
      return "YCbCr";
    case ColorSpace::kCmyk:
      return "CMYK";
    case ColorSpace::kYcck:
      return "YCCK";
    case ColorSpace::kUnknown:
      break;
  }
  return "unknown";
}

ImageFormat DetectFormat(absl::string_view bytes) {
  // Pillow's JPEG check; the third byte starts the first marker after SOI.
  if (bytes.size() >= 3 && bytes[0] == '\xFF' && bytes[1] == '\xD8' && bytes[2] == '\xFF') {
    return ImageFormat::kJpeg;
  }
  if (bytes.size() >= sizeof(kPngSignature) &&
      std::memcmp(bytes.data(), kPngSignature, sizeof(kPngSignature)) == 0) {
    return ImageFormat::kPng;
  }
  return ImageFormat::kUnknown;
}

absl::StatusOr<ImageHeader> ReadImageHeader(absl::string_view bytes) {
  if (bytes.empty()) return EmptyInputError();
  switch (DetectFormat(bytes)) {
    case ImageFormat::kJpeg:
      return ReadJpegHeader(bytes);
    case ImageFormat::kPng:
      return ReadPngHeader(bytes);
    case ImageFormat::kUnknown:
      break;
  }
  return UnknownFormatError(bytes);
}

absl::StatusOr<Image> DecodeImage(absl::string_view bytes, const DecodeOptions& options) {
  if (bytes.empty()) return EmptyInputError();
  switch (DetectFormat(bytes)) {
    case ImageFormat::kJpeg:
      return DecodeJpeg(bytes, options);
    case ImageFormat::kPng:
      return DecodePng(bytes, options);
    case ImageFormat::kUnknown:
      break;
  }
  return UnknownFormatError(bytes);
}

int RegionScaleEighths(int region_width, int region_height, int min_width, int min_height,
                       uint8_t scales) {
  for (int k = 1; k < 8; ++k) {
    if ((scales >> (k - 1) & 1) != 0 && int64_t{region_width} * k >= int64_t{min_width} * 8 &&
        int64_t{region_height} * k >= int64_t{min_height} * 8) {
      return k;
    }
  }
  return 8;
}

absl::Status DecodeRegion(absl::string_view bytes, const ImageRegion& region, int min_width,
                          int min_height, const DecodeOptions& options, Image* image) {
  if (bytes.empty()) return EmptyInputError();
  switch (DetectFormat(bytes)) {
    case ImageFormat::kJpeg:
      return DecodeJpegRegion(bytes, region, min_width, min_height, options, image);
    case ImageFormat::kPng: {
      absl::StatusOr<Image> full = DecodePng(bytes, options);
      if (!full.ok()) return full.status();
      if (absl::Status status = CheckRegion(region, full->width, full->height); !status.ok()) {
        return status;
      }
      if (absl::Status status = ReshapeImage(region.width, region.height, image); !status.ok()) {
        return status;
      }
      for (int y = 0; y < region.height; ++y) {
        std::memcpy(image->Row(y), full->Row(region.y + y) + static_cast<size_t>(region.x) * 3,
                    image->RowBytes());
      }
      return absl::OkStatus();
    }
    case ImageFormat::kUnknown:
      break;
  }
  return UnknownFormatError(bytes);
}

absl::StatusOr<Image> DecodeRegion(absl::string_view bytes, const ImageRegion& region,
                                   int min_width, int min_height, const DecodeOptions& options) {
  Image image;
  if (absl::Status status = DecodeRegion(bytes, region, min_width, min_height, options, &image);
      !status.ok()) {
    return status;
  }
  return image;
}

}  // namespace forge
