#include "lib/train/device.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>

namespace forge {
namespace {

TEST(DeviceTest, NamesAndDefault) {
  absl::StatusOr<torch::Device> cpu = ParseDevice("cpu");
  ASSERT_TRUE(cpu.ok());
  EXPECT_TRUE(cpu->is_cpu());
  absl::StatusOr<torch::Device> chosen = ParseDevice("");
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ(chosen->is_cuda(), torch::cuda::is_available());
  absl::StatusOr<torch::Device> bad = ParseDevice("gpu0");
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_NE(bad.status().message().find("--device=gpu0"), std::string::npos);
  if (!torch::cuda::is_available()) {
    EXPECT_TRUE(absl::IsFailedPrecondition(ParseDevice("cuda:1").status()));
  }
}

}  // namespace
}  // namespace forge
