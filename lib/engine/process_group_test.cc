#include "lib/engine/process_group.h"

#include <gtest/gtest.h>

namespace forge {
namespace {

TEST(SingleProcessTest, IsAGroupOfOneThatWritesAndAgreesWithItself) {
  SingleProcess group;
  EXPECT_EQ(group.rank(), 0);
  EXPECT_EQ(group.size(), 1);
  EXPECT_TRUE(group.writes_outputs());
  EXPECT_TRUE(group.Any(true));
  EXPECT_FALSE(group.Any(false));
  const torch::Tensor gradient = torch::tensor({1.0, -2.0, 3.5});
  const torch::Tensor before = gradient.clone();
  ASSERT_TRUE(group.AverageGradients({gradient}).ok());
  EXPECT_TRUE(torch::equal(gradient, before)) << "the mean over one process is the tensor itself";
}

}  // namespace
}  // namespace forge
