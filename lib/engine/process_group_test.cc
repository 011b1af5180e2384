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
  EXPECT_EQ(group.AnyLater({true, false})(), (ProcessGroup::Flags{true, false}));
  torch::nn::Linear model(2, 3);
  const torch::Tensor weight = model->weight.detach().clone();
  ASSERT_TRUE(group.ShareModel(*model).ok());
  EXPECT_TRUE(torch::equal(model->weight, weight)) << "rank 0's weights are its own";
  const torch::Tensor counts = torch::tensor({1.0, -2.0, 3.5});
  const torch::Tensor before = counts.clone();
  ASSERT_TRUE(group.Sum({counts}).ok());
  ASSERT_TRUE(group.Broadcast({counts}).ok());
  EXPECT_TRUE(torch::equal(counts, before)) << "the sum over one process is the tensor itself";
}

}  // namespace
}  // namespace forge
