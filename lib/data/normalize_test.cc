#include "lib/data/normalize.h"

#include <gtest/gtest.h>

namespace forge {
namespace {

ChannelStats Stats() {
  ChannelStats stats;
  for (double m : {0.5, 0.25, 0.0}) stats.add_mean(m);
  for (double s : {0.5, 0.25, 1.0}) stats.add_std(s);
  return stats;
}

TEST(NormalizerTest, ComputesPerChannelAffineMapFromNhwc) {
  absl::StatusOr<Normalizer> normalize = Normalizer::Create(Stats(), torch::kCPU);
  ASSERT_TRUE(normalize.ok()) << normalize.status();
  // One 1x2 image: pixels (255, 0, 51) and (0, 255, 102).
  torch::Tensor nhwc = torch::tensor({255, 0, 51, 0, 255, 102}, torch::kUInt8).view({1, 1, 2, 3});
  torch::Tensor x = (*normalize)(nhwc);
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{1, 3, 1, 2}));
  EXPECT_EQ(x.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(x.is_contiguous(torch::MemoryFormat::ChannelsLast));
  const float tolerance = 1e-6f;
  EXPECT_NEAR(x[0][0][0][0].item<float>(), (1.0 - 0.5) / 0.5, tolerance);
  EXPECT_NEAR(x[0][0][0][1].item<float>(), (0.0 - 0.5) / 0.5, tolerance);
  EXPECT_NEAR(x[0][1][0][1].item<float>(), (1.0 - 0.25) / 0.25, tolerance);
  EXPECT_NEAR(x[0][2][0][0].item<float>(), 0.2, tolerance);
  EXPECT_NEAR(x[0][2][0][1].item<float>(), 0.4, tolerance);
}

TEST(NormalizerTest, NchwInputAndContiguousOutputAgree) {
  absl::StatusOr<Normalizer> normalize = Normalizer::Create(Stats(), torch::kCPU);
  ASSERT_TRUE(normalize.ok());
  torch::manual_seed(0);
  torch::Tensor nhwc = torch::randint(0, 256, {2, 5, 4, 3}, torch::kUInt8);
  torch::Tensor from_nhwc = (*normalize)(nhwc, /*channels_last=*/false);
  torch::Tensor from_nchw = (*normalize)(nhwc.permute({0, 3, 1, 2}).contiguous(), false);
  EXPECT_TRUE(from_nhwc.is_contiguous());
  EXPECT_TRUE(torch::allclose(from_nhwc, from_nchw));
  EXPECT_TRUE(torch::allclose(from_nhwc, (*normalize)(nhwc, true)));
}

TEST(NormalizerTest, RefusesBadStats) {
  ChannelStats two = Stats();
  two.mutable_mean()->RemoveLast();
  EXPECT_TRUE(absl::IsInvalidArgument(Normalizer::Create(two, torch::kCPU).status()));
  ChannelStats zero = Stats();
  zero.set_std(1, 0.0);
  EXPECT_TRUE(absl::IsInvalidArgument(Normalizer::Create(zero, torch::kCPU).status()));
}

TEST(NormalizerTest, MovesToCudaWhenPresent) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU here";
  absl::StatusOr<Normalizer> normalize = Normalizer::Create(Stats(), torch::kCUDA);
  ASSERT_TRUE(normalize.ok());
  torch::Tensor x = (*normalize)(torch::zeros({1, 2, 2, 3}, torch::kUInt8));
  EXPECT_TRUE(x.is_cuda());
}

}  // namespace
}  // namespace forge
