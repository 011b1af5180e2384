// Implementation of the in-memory JPEG and PNG encoders declared in image_writers.h.

#include "testdata/image_writers.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include <jpeglib.h>
#include <png.h>
#include <turbojpeg.h>

#include "glog/logging.h"

namespace forge::testdata {
namespace {

// Checks the arguments every encoder shares.
void CheckImageArgs(const uint8_t* pixels, int width, int height) {
  CHECK(pixels != nullptr);
  CHECK_GT(width, 0);
  CHECK_GT(height, 0);
}

// Compresses `pixels` with TurboJPEG and returns the JPEG bytes.
std::string CompressWithTurboJpeg(const uint8_t* pixels, int width, int height, int pixel_format,
                                  int subsampling, int quality, int flags) {
  CheckImageArgs(pixels, width, height);
  CHECK(quality >= 1 && quality <= 100) << "quality " << quality;
  tjhandle handle = tjInitCompress();
  CHECK(handle != nullptr) << "tjInitCompress: " << tjGetErrorStr2(nullptr);
  unsigned char* jpeg = nullptr;
  unsigned long jpeg_size = 0;
  const int rc = tjCompress2(handle, pixels, width, /*pitch=*/0, height, pixel_format, &jpeg,
                             &jpeg_size, subsampling, quality, flags);
  CHECK_EQ(rc, 0) << "tjCompress2: " << tjGetErrorStr2(handle);
  std::string out(reinterpret_cast<const char*>(jpeg), jpeg_size);
  tjFree(jpeg);
  tjDestroy(handle);
  return out;
}

// libjpeg error handler: libjpeg's default calls exit(); test code wants a CHECK-style abort
// that says what went wrong.
[[noreturn]] void LibjpegErrorExit(j_common_ptr cinfo) {
  char message[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, message);
  LOG(FATAL) << "libjpeg: " << message;
  std::abort();  // Not reached; tells the compiler this function does not return.
}

// Returns the Adobe-inverted CMYK bytes of one RGB pixel, as documented in the header.
void RgbToInvertedCmyk(const uint8_t* rgb, uint8_t* cmyk) {
  const int max = std::max({rgb[0], rgb[1], rgb[2]});
  const int k = 255 - max;
  for (int i = 0; i < 3; ++i) {
    // 255 - K == max; when max == 0 (K == 255) the ink values are 0 by definition.
    const int ink = max == 0 ? 0 : ((255 - rgb[i] - k) * 255 + max / 2) / max;
    cmyk[i] = static_cast<uint8_t>(255 - ink);
  }
  cmyk[3] = static_cast<uint8_t>(255 - k);
}

}  // namespace

std::string EncodeJpeg(const uint8_t* rgb, int width, int height, int quality, bool progressive) {
  return CompressWithTurboJpeg(rgb, width, height, TJPF_RGB, TJSAMP_420, quality,
                               progressive ? TJFLAG_PROGRESSIVE : 0);
}

std::string EncodeGrayJpeg(const uint8_t* gray, int width, int height, int quality) {
  return CompressWithTurboJpeg(gray, width, height, TJPF_GRAY, TJSAMP_GRAY, quality, 0);
}

std::string EncodeCmykJpeg(const uint8_t* rgb, int width, int height, int quality) {
  CheckImageArgs(rgb, width, height);
  CHECK(quality >= 1 && quality <= 100) << "quality " << quality;
  jpeg_compress_struct cinfo;
  jpeg_error_mgr error_manager;
  cinfo.err = jpeg_std_error(&error_manager);
  error_manager.error_exit = LibjpegErrorExit;
  jpeg_create_compress(&cinfo);
  unsigned char* jpeg = nullptr;
  unsigned long jpeg_size = 0;
  jpeg_mem_dest(&cinfo, &jpeg, &jpeg_size);

  cinfo.image_width = static_cast<JDIMENSION>(width);
  cinfo.image_height = static_cast<JDIMENSION>(height);
  cinfo.input_components = 4;
  cinfo.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_colorspace(&cinfo, JCS_CMYK);  // 4 components, 1x1 sampling, no JFIF header.
  jpeg_set_quality(&cinfo, quality, /*force_baseline=*/TRUE);
  cinfo.write_Adobe_marker = TRUE;  // APP14 "Adobe", transform 0 for plain CMYK.
  jpeg_start_compress(&cinfo, /*write_all_tables=*/TRUE);

  std::vector<uint8_t> row(static_cast<size_t>(width) * 4);
  while (cinfo.next_scanline < cinfo.image_height) {
    const uint8_t* src = rgb + static_cast<size_t>(cinfo.next_scanline) * width * 3;
    for (int x = 0; x < width; ++x) RgbToInvertedCmyk(src + 3 * x, row.data() + 4 * x);
    JSAMPROW rows[1] = {row.data()};
    jpeg_write_scanlines(&cinfo, rows, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::string out(reinterpret_cast<const char*>(jpeg), jpeg_size);
  std::free(jpeg);  // jpeg_mem_dest allocates with malloc.
  return out;
}

std::string EncodePng(const uint8_t* pixels, int width, int height, int channels) {
  CheckImageArgs(pixels, width, height);
  png_image image = {};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  switch (channels) {
    case 1: image.format = PNG_FORMAT_GRAY; break;
    case 3: image.format = PNG_FORMAT_RGB; break;
    case 4: image.format = PNG_FORMAT_RGBA; break;
    default: LOG(FATAL) << "EncodePng: channels must be 1, 3 or 4, got " << channels;
  }
  // First call measures, second call writes.
  png_alloc_size_t size = 0;
  CHECK(png_image_write_to_memory(&image, nullptr, &size, /*convert_to_8bit=*/0, pixels,
                                  /*row_stride=*/0, /*colormap=*/nullptr))
      << "libpng: " << image.message;
  std::string out(size, '\0');
  CHECK(png_image_write_to_memory(&image, out.data(), &size, 0, pixels, 0, nullptr))
      << "libpng: " << image.message;
  out.resize(size);
  png_image_free(&image);
  return out;
}

}  // namespace forge::testdata
