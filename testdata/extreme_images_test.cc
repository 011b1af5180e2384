#include "testdata/extreme_images.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "lib/image/decode.h"

namespace forge::testdata {
namespace {

TEST(ExtremeImagesTest, DecodeToTheirStatedSizesInNameOrder) {
  const std::vector<ExtremeImage>& images = ExtremeImages();
  ASSERT_EQ(images.size(), 7u);
  for (size_t i = 0; i < images.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(images[i - 1].name, images[i].name);
    }
    absl::StatusOr<ImageHeader> header = ReadImageHeader(images[i].bytes);
    ASSERT_TRUE(header.ok()) << images[i].name << ": " << header.status();
    EXPECT_EQ(header->width, images[i].width) << images[i].name;
    EXPECT_EQ(header->height, images[i].height) << images[i].name;
    EXPECT_TRUE(DecodeImage(images[i].bytes).ok()) << images[i].name;
  }
}

}  // namespace
}  // namespace forge::testdata
