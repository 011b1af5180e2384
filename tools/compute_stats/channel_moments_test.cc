#include "tools/compute_stats/channel_moments.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace forge {
namespace {

Image Filled(int width, int height, uint8_t r, uint8_t g, uint8_t b) {
  Image image;
  image.width = width;
  image.height = height;
  for (int i = 0; i < width * height; ++i) {
    image.pixels.insert(image.pixels.end(), {r, g, b});
  }
  return image;
}

TEST(ChannelMomentsTest, MeanAndPopulationStdOfKnownValues) {
  ChannelMoments moments;
  moments.Add(Filled(2, 1, 0, 255, 51));
  moments.Add(Filled(1, 2, 255, 255, 102));
  EXPECT_EQ(moments.pixels(), 4u);
  EXPECT_DOUBLE_EQ(moments.Mean(0), 0.5);
  EXPECT_DOUBLE_EQ(moments.Std(0), 0.5);  // values {0, 0, 1, 1}
  EXPECT_DOUBLE_EQ(moments.Mean(1), 1.0);
  EXPECT_DOUBLE_EQ(moments.Std(1), 0.0);
  EXPECT_NEAR(moments.Mean(2), 0.3, 1e-15);  // {0.2, 0.2, 0.4, 0.4}
  EXPECT_NEAR(moments.Std(2), 0.1, 1e-15);
  EXPECT_EQ(moments.sum(1), 4u * 255u);
  EXPECT_EQ(Uint128ToString(moments.sum_of_squares(1)), "260100");
}

TEST(ChannelMomentsTest, MergeEqualsAddingEverything) {
  ChannelMoments all, left, right;
  for (int i = 0; i < 10; ++i) {
    Image image = Filled(3 + i, 2, static_cast<uint8_t>(i * 20), static_cast<uint8_t>(255 - i), 7);
    all.Add(image);
    (i % 3 == 0 ? left : right).Add(image);
  }
  left.Merge(right);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(left.sum(c), all.sum(c));
    EXPECT_EQ(left.Mean(c), all.Mean(c));  // bitwise: integer sums are order independent
    EXPECT_EQ(left.Std(c), all.Std(c));
  }
}

TEST(ChannelMomentsTest, NoCancellationForNearlyConstantData) {
  // A huge, almost constant dataset: naive float variance would lose everything here.
  ChannelMoments moments;
  Image big = Filled(4000, 4000, 200, 200, 200);
  for (int i = 0; i < 8; ++i) moments.Add(big);
  Image one = Filled(1, 1, 201, 200, 200);
  moments.Add(one);
  const double n = 8.0 * 4000 * 4000 + 1;
  const double expected = std::sqrt((1.0 / n) * (1.0 - 1.0 / n)) / 255.0;
  EXPECT_NEAR(moments.Std(0), expected, expected * 1e-9);
  EXPECT_EQ(moments.Std(1), 0.0);
}

TEST(ChannelMomentsTest, EmptyIsZero) {
  ChannelMoments moments;
  EXPECT_EQ(moments.Mean(0), 0.0);
  EXPECT_EQ(moments.Std(2), 0.0);
  EXPECT_EQ(Uint128ToString(0), "0");
  EXPECT_EQ(Uint128ToString(static_cast<unsigned __int128>(std::numeric_limits<uint64_t>::max()) * 10 + 9),
            "184467440737095516159");
}

}  // namespace
}  // namespace forge
