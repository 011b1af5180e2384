#include "lib/train/mixing.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace forge {
namespace {

// Images whose every pixel differs from every other image's: image n holds n + position / 1e4.
torch::Tensor DistinctImages(int64_t n, int64_t height, int64_t width) {
  return torch::arange(n, torch::kFloat32).view({n, 1, 1, 1}) +
         torch::arange(3 * height * width, torch::kFloat32).view({1, 3, height, width}) / 1e4;
}

TEST(MixBatchTest, DisabledOrABatchOfOneIsLeftAlone) {
  const torch::Tensor images = DistinctImages(4, 8, 8), labels = torch::arange(4);
  const MixedBatch unmixed = MixBatch(images, labels, MixingOptions(), 1);
  EXPECT_EQ(unmixed.kind, MixedBatch::Kind::kNone);
  EXPECT_TRUE(torch::equal(unmixed.images, images));
  MixingOptions mixup;
  mixup.mixup_alpha = 0.2;
  EXPECT_EQ(MixBatch(images.narrow(0, 0, 1), labels.narrow(0, 0, 1), mixup, 1).kind, MixedBatch::Kind::kNone);
  mixup.probability = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) EXPECT_EQ(MixBatch(images, labels, mixup, seed).kind, MixedBatch::Kind::kNone);
}

TEST(MixBatchTest, MixUpBlendsEachImageWithItsNeighbourByLambda) {
  MixingOptions options;
  options.mixup_alpha = 0.2;
  const torch::Tensor images = DistinctImages(4, 8, 8), labels = torch::tensor({5, 6, 7, 8});
  const MixedBatch mixed = MixBatch(images, labels, options, 42);
  ASSERT_EQ(mixed.kind, MixedBatch::Kind::kMixUp);
  EXPECT_GT(mixed.lambda, 0.0);
  EXPECT_LT(mixed.lambda, 1.0);
  EXPECT_TRUE(torch::allclose(mixed.images, images * mixed.lambda + images.roll(1, 0) * (1 - mixed.lambda)));
  EXPECT_TRUE(torch::equal(mixed.partner_labels, torch::tensor({8, 5, 6, 7})));
  EXPECT_TRUE(torch::equal(mixed.dominant_labels(), mixed.lambda >= 0.5 ? labels : mixed.partner_labels));
  // The same seed mixes the same way; others differently.
  EXPECT_EQ(MixBatch(images, labels, options, 42).lambda, mixed.lambda);
  EXPECT_NE(MixBatch(images, labels, options, 43).lambda, mixed.lambda);
}

TEST(MixBatchTest, CutMixPastesTheNeighboursBoxAndLambdaIsWhatIsLeft) {
  MixingOptions options;
  options.cutmix_alpha = 1.0;
  const int64_t height = 12, width = 20;
  const torch::Tensor images = DistinctImages(3, height, width), labels = torch::tensor({0, 1, 2});
  int clipped = 0;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    const MixedBatch mixed = MixBatch(images, labels, options, seed);
    ASSERT_EQ(mixed.kind, MixedBatch::Kind::kCutMix);
    const torch::Tensor pasted = mixed.images.ne(images);  // N x 3 x H x W
    EXPECT_TRUE(torch::equal(mixed.images.masked_select(pasted), images.roll(1, 0).masked_select(pasted)));
    // The same box in every image and channel; lambda is the unpasted share of the image.
    const torch::Tensor box = pasted[0][0];
    for (int64_t n = 0; n < 3; ++n) {
      for (int64_t c = 0; c < 3; ++c) EXPECT_TRUE(torch::equal(pasted[n][c], box));
    }
    const double area = box.sum().item<double>();
    EXPECT_DOUBLE_EQ(mixed.lambda, 1.0 - area / (height * width)) << "seed " << seed;
    // A box that reaches an edge was clipped: lambda corrected above, not the drawn one.
    if (area > 0 && (box[0].any().item<bool>() || box[height - 1].any().item<bool>() ||
                     box.select(1, 0).any().item<bool>() || box.select(1, width - 1).any().item<bool>())) {
      ++clipped;
    }
  }
  EXPECT_GT(clipped, 0);
}

TEST(MixBatchTest, SwitchProbabilityChoosesBetweenThem) {
  MixingOptions options;
  options.mixup_alpha = 0.2;
  options.cutmix_alpha = 1.0;
  const torch::Tensor images = DistinctImages(4, 8, 8), labels = torch::arange(4);
  int cutmix = 0;
  for (uint64_t seed = 0; seed < 400; ++seed) cutmix += MixBatch(images, labels, options, seed).kind == MixedBatch::Kind::kCutMix;
  EXPECT_GT(cutmix, 150);
  EXPECT_LT(cutmix, 250);
  options.switch_probability = 1;
  EXPECT_EQ(MixBatch(images, labels, options, 7).kind, MixedBatch::Kind::kCutMix);
  options.switch_probability = 0;
  EXPECT_EQ(MixBatch(images, labels, options, 7).kind, MixedBatch::Kind::kMixUp);
}

TEST(MixBatchTest, LambdaIsBetaDistributed) {
  // Beta(1, 1) is uniform: mean 1/2, variance 1/12.
  MixingOptions options;
  options.mixup_alpha = 1.0;
  const torch::Tensor images = DistinctImages(2, 2, 2), labels = torch::arange(2);
  double sum = 0, squares = 0;
  const int draws = 4000;
  for (int seed = 0; seed < draws; ++seed) {
    const double lambda = MixBatch(images, labels, options, static_cast<uint64_t>(seed)).lambda;
    sum += lambda;
    squares += lambda * lambda;
  }
  const double mean = sum / draws;
  EXPECT_NEAR(mean, 0.5, 0.02);
  EXPECT_NEAR(squares / draws - mean * mean, 1.0 / 12, 0.01);
}

// The mixed loss is PyTorch's cross_entropy against the mixed one-hot targets, label smoothing
// included (what torchvision's recipe computes).
TEST(MixedCrossEntropyTest, IsCrossEntropyAgainstMixedTargets) {
  MixingOptions options;
  options.mixup_alpha = 0.4;
  torch::manual_seed(3);
  const torch::Tensor logits = torch::randn({4, 10});
  const torch::Tensor labels = torch::tensor({1, 9, 3, 3});
  const MixedBatch mixed = MixBatch(DistinctImages(4, 4, 4), labels, options, 11);
  ASSERT_EQ(mixed.kind, MixedBatch::Kind::kMixUp);
  const torch::Tensor targets = torch::one_hot(labels, 10).to(torch::kFloat32) * mixed.lambda +
                                torch::one_hot(mixed.partner_labels, 10).to(torch::kFloat32) * (1 - mixed.lambda);
  for (double smoothing : {0.0, 0.1}) {
    const torch::Tensor expected = torch::nn::functional::cross_entropy(
        logits, targets, torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(smoothing));
    EXPECT_NEAR(MixedCrossEntropy(logits, mixed, smoothing).item<double>(), expected.item<double>(), 1e-6);
  }
}

}  // namespace
}  // namespace forge
