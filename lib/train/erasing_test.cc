#include "lib/train/erasing.h"

#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "lib/data/random.h"

namespace forge {
namespace {

ErasingOptions Always(double scale, double ratio) {
  ErasingOptions options;
  options.probability = 1;
  options.min_scale = options.max_scale = scale;
  options.min_ratio = options.max_ratio = ratio;
  return options;
}

TEST(SampleErasedBoxTest, SidesAreTorchvisionsRoundedSquareRoots) {
  std::mt19937_64 engine(1);
  // 8 x 8, a quarter of the area, square: 4 x 4 anywhere in [0, 4].
  for (int i = 0; i < 50; ++i) {
    const std::optional<ErasedBox> box = SampleErasedBox(8, 8, Always(0.25, 1), engine);
    ASSERT_TRUE(box.has_value());
    EXPECT_EQ(box->height, 4);
    EXPECT_EQ(box->width, 4);
    EXPECT_GE(box->top, 0);
    EXPECT_LE(box->top, 4);
    EXPECT_LE(box->left, 4);
  }
  // sqrt(100 * 0.0625) = 2.5 rounds to even: 2.
  EXPECT_EQ(SampleErasedBox(10, 10, Always(0.0625, 1), engine)->height, 2);
  // sqrt(100 * 0.1225) = 3.5 rounds to 4.
  EXPECT_EQ(SampleErasedBox(10, 10, Always(0.1225, 1), engine)->height, 4);
  // Height / width = 4: sqrt(64 * 0.25 * 4) = 8 rows is not inside 8: no attempt fits.
  EXPECT_FALSE(SampleErasedBox(8, 8, Always(0.25, 4), engine).has_value());
  // sqrt(256 * 0.25 * 4) = 16 rows of 32, sqrt(64 / 4) = 4 columns.
  const std::optional<ErasedBox> tall = SampleErasedBox(32, 8, Always(0.25, 4), engine);
  ASSERT_TRUE(tall.has_value());
  EXPECT_EQ(tall->height, 16);
  EXPECT_EQ(tall->width, 4);
}

TEST(SampleErasedBoxTest, ErasesWithTheProbabilityWithinTheBounds) {
  ErasingOptions options;
  options.probability = 0.5;
  std::mt19937_64 engine(7);
  int erased = 0;
  const int draws = 4000;
  for (int i = 0; i < draws; ++i) {
    const std::optional<ErasedBox> box = SampleErasedBox(224, 224, options, engine);
    if (!box) continue;
    ++erased;
    EXPECT_LT(box->top + box->height, 225);
    EXPECT_LT(box->left + box->width, 225);
    const double area = static_cast<double>(box->height * box->width) / (224 * 224);
    EXPECT_GT(area, 0.015);  // 0.02 and 0.33, give or take the rounding of the sides
    EXPECT_LT(area, 0.35);
    const double ratio = static_cast<double>(box->height) / box->width;
    EXPECT_GT(ratio, 0.28);
    EXPECT_LT(ratio, 3.5);
  }
  EXPECT_NEAR(static_cast<double>(erased) / draws, 0.5, 0.03);
  options.probability = 0;
  EXPECT_FALSE(SampleErasedBox(224, 224, options, engine).has_value());
}

TEST(EraseBatchTest, SetsEachImagesOwnBoxAndNothingElse) {
  ErasingOptions options;
  options.probability = 0.7;
  options.value = -2.5;
  const torch::Tensor images = torch::rand({6, 3, 20, 24});
  const torch::Tensor erased = EraseBatch(images, options, 42);
  torch::Tensor expected = images.clone();
  int boxes = 0;
  for (int64_t k = 0; k < 6; ++k) {
    std::mt19937_64 engine(MixSeed(42, static_cast<uint64_t>(k)));
    const std::optional<ErasedBox> box = SampleErasedBox(20, 24, options, engine);
    if (!box) continue;
    ++boxes;
    using torch::indexing::Slice;
    expected.index_put_({k, Slice(), Slice(box->top, box->top + box->height), Slice(box->left, box->left + box->width)},
                        -2.5);
  }
  ASSERT_GT(boxes, 0) << "this seed erases some images";
  EXPECT_TRUE(torch::equal(erased, expected));
  // Channels-last images get the same pixels; the input is left alone.
  const torch::Tensor channels_last = EraseBatch(images.contiguous(torch::MemoryFormat::ChannelsLast), options, 42);
  EXPECT_TRUE(torch::equal(channels_last, expected));
  EXPECT_FALSE(torch::equal(erased, images));
  options.probability = 0;
  EXPECT_TRUE(EraseBatch(images, options, 42).is_same(images));
}

TEST(EraseBatchTest, RandomValuesAreNoiseInsideTheBoxOnly) {
  ErasingOptions options = Always(0.25, 1);
  options.random_value = true;
  // Image k's box comes from its global position: rank 1 of 2 (positions 7, 9) erases as a
  // process alone does its images 7 and 9.
  {
    ErasingOptions fill = Always(0.2, 1.5);
    fill.value = 1;
    const torch::Tensor alone = EraseBatch(torch::zeros({10, 1, 16, 16}), fill, 5);
    const torch::Tensor rank_one = EraseBatch(torch::zeros({2, 1, 16, 16}), fill, 5, 7, 2);
    EXPECT_TRUE(torch::equal(rank_one[0], alone[7]));
    EXPECT_TRUE(torch::equal(rank_one[1], alone[9]));
    EXPECT_FALSE(torch::equal(alone[7], alone[9]));
  }
  const torch::Tensor images = torch::full({2, 3, 8, 8}, 100.0);
  const torch::Tensor erased = EraseBatch(images, options, 3);
  const torch::Tensor changed = erased != 100.0;
  // 4 x 4 x 3 noise values per image.
  EXPECT_EQ(changed.sum().item<int64_t>(), 2 * 3 * 16);
  EXPECT_LT(erased.masked_select(changed).abs().max().item<double>(), 10.0);
}

}  // namespace
}  // namespace forge
