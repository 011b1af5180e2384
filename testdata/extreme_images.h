// Valid images of extreme shapes, for tests that every tool and transform survives them: very
// wide and very tall ones (which pass the decoder's pixel limit but would ask an unbounded
// resize for gigabytes), one of a single pixel, and one wider than a JPEG can be.
//
//   for (const testdata::ExtremeImage& image : testdata::ExtremeImages()) {
//     WriteFile(class_dir + "/" + image.name, image.bytes);
//   }
#ifndef FORGE_TESTDATA_EXTREME_IMAGES_H_
#define FORGE_TESTDATA_EXTREME_IMAGES_H_

#include <string>
#include <vector>

namespace forge::testdata {

struct ExtremeImage {
  std::string name;   // a file name with an image extension, e.g. "wide_20000x2.png"
  std::string bytes;  // the encoded image
  int width = 0;
  int height = 0;
};

// In this order (sorted by name, as ImageFolder lists them):
//   "one_pixel_1x1.JPEG"     1 x 1 JPEG
//   "one_pixel_1x1.png"      1 x 1 PNG
//   "tall_2x20000.JPEG"      2 x 20000 JPEG
//   "tall_2x20000.png"       2 x 20000 PNG
//   "too_wide_70000x1.png"   70000 x 1 PNG (wider than JPEG's 65500)
//   "wide_20000x2.JPEG"      20000 x 2 JPEG
//   "wide_20000x2.png"       20000 x 2 PNG
// Pixels are a deterministic pattern; the same bytes on every call.
const std::vector<ExtremeImage>& ExtremeImages();

}  // namespace forge::testdata

#endif  // FORGE_TESTDATA_EXTREME_IMAGES_H_
