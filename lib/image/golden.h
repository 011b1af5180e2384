// Test-only access to lib/image/testdata: the checked-in fixture files and the Pillow golden
// pixel listings written by testdata/make_golden.py.
#ifndef FORGE_LIB_IMAGE_GOLDEN_H_
#define FORGE_LIB_IMAGE_GOLDEN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "lib/image/image.h"

namespace forge::image_testing {

// The bytes of lib/image/testdata/<name> in the test's runfiles. Fails the current test and
// returns "" when the file cannot be read.
std::string ReadTestdata(absl::string_view name);

// The lines of lib/image/testdata/<name> that are neither empty nor '#' comments, each split
// on spaces.
std::vector<std::vector<std::string>> ReadGoldenLines(absl::string_view name);

// The golden scripts' "noise" pattern: width x height pixels whose bytes are bits 16..23 of
// ANSI C rand()'s LCG from seed 12345, in pixel order (make_golden.py's pattern("noise")).
Image NoiseImage(int width, int height);

// FNV-1a 64 of `bytes`, as make_golden.py computes it.
uint64_t Fnv1a64(const std::vector<uint8_t>& bytes);

// Whether `image`'s pixels are those of a golden pixel field: either all pixel bytes in hex,
// or "fnv1a64:<16 hex digits> sum:<decimal byte sum>" (one string with a space).
::testing::AssertionResult PixelsMatchGolden(const Image& image, absl::string_view golden);

}  // namespace forge::image_testing

#endif  // FORGE_LIB_IMAGE_GOLDEN_H_
