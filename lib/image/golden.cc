// Implementation of the lib/image test fixture helpers.
#include "lib/image/golden.h"

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "lib/image/image.h"

namespace forge::image_testing {

std::string ReadTestdata(absl::string_view name) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  const std::string path =
      absl::StrCat(srcdir != nullptr ? srcdir : ".", "/",
                   workspace != nullptr ? workspace : "resnet_forge", "/lib/image/testdata/", name);
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

std::vector<std::vector<std::string>> ReadGoldenLines(absl::string_view name) {
  std::vector<std::vector<std::string>> lines;
  for (absl::string_view line : absl::StrSplit(ReadTestdata(name), '\n')) {
    if (line.empty() || line[0] == '#') continue;
    lines.push_back(absl::StrSplit(line, ' '));
  }
  return lines;
}

Image NoiseImage(int width, int height) {
  Image image(width, height);
  uint32_t state = 12345;
  for (uint8_t& byte : image.pixels) {
    state = (state * 1103515245u + 12345u) & 0x7FFFFFFFu;
    byte = static_cast<uint8_t>(state >> 16);
  }
  return image;
}

uint64_t Fnv1a64(const std::vector<uint8_t>& bytes) {
  uint64_t hash = 0xCBF29CE484222325u;
  for (const uint8_t b : bytes) {
    hash ^= b;
    hash *= 0x100000001B3u;
  }
  return hash;
}

::testing::AssertionResult PixelsMatchGolden(const Image& image, absl::string_view golden) {
  if (absl::StartsWith(golden, "fnv1a64:")) {
    uint64_t sum = 0;
    for (const uint8_t b : image.pixels) sum += b;
    const std::string actual = absl::StrFormat("fnv1a64:%016x sum:%d", Fnv1a64(image.pixels), sum);
    if (actual == golden) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "pixels are " << actual << ", Pillow's are " << golden;
  }
  const std::string expected = absl::HexStringToBytes(golden);
  if (expected.size() != image.pixels.size()) {
    return ::testing::AssertionFailure()
           << image.pixels.size() << " pixel bytes, Pillow has " << expected.size();
  }
  int mismatches = 0;
  std::string first;
  for (size_t i = 0; i < expected.size(); ++i) {
    const int want = static_cast<uint8_t>(expected[i]);
    if (image.pixels[i] == want) continue;
    if (mismatches++ == 0) {
      const size_t pixel = i / 3;
      first = absl::StrFormat("first at x=%d y=%d channel %d: %d, Pillow %d", pixel % image.width,
                              pixel / image.width, i % 3, image.pixels[i], want);
    }
  }
  if (mismatches == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << mismatches << " of " << expected.size() << " bytes differ from Pillow's; " << first;
}

}  // namespace forge::image_testing
