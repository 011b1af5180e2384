#include "lib/train/autocast.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace forge {
namespace {

TEST(AutocastGuardTest, MatmulRunsInBf16InsideAndStateIsRestored) {
  torch::Tensor a = torch::randn({8, 8}), b = torch::randn({8, 8});
  const torch::Tensor reference = torch::matmul(a, b);
  EXPECT_FALSE(at::autocast::is_autocast_enabled(c10::DeviceType::CPU));
  {
    AutocastGuard autocast(c10::DeviceType::CPU, at::kBFloat16, /*enabled=*/true);
    EXPECT_TRUE(at::autocast::is_autocast_enabled(c10::DeviceType::CPU));
    torch::Tensor c = torch::matmul(a, b);
    EXPECT_EQ(c.scalar_type(), at::kBFloat16);
    EXPECT_TRUE(torch::allclose(c.to(torch::kFloat32), reference, /*rtol=*/0.05, /*atol=*/0.1));
  }
  EXPECT_FALSE(at::autocast::is_autocast_enabled(c10::DeviceType::CPU));
  EXPECT_EQ(torch::matmul(a, b).scalar_type(), at::kFloat);
}

TEST(AutocastGuardTest, DisabledGuardChangesNothing) {
  AutocastGuard autocast(c10::DeviceType::CPU, at::kBFloat16, /*enabled=*/false);
  EXPECT_FALSE(at::autocast::is_autocast_enabled(c10::DeviceType::CPU));
  EXPECT_EQ(torch::matmul(torch::randn({2, 2}), torch::randn({2, 2})).scalar_type(), at::kFloat);
}

}  // namespace
}  // namespace forge
