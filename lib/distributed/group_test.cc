// Runs as two MPI processes (mpi_testing.h): the group's collectives and gradient averaging.
#include "lib/distributed/group.h"

#include <memory>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "lib/distributed/launch.h"
#include "lib/distributed/mpi_testing.h"

namespace forge {
namespace {

// The job's group, joined before the tests and left (MPI finalised) after them.
std::unique_ptr<ProcessGroup> group;

class GroupEnvironment : public testing::Environment {
 public:
  void SetUp() override {
    absl::StatusOr<Launch> launch = DetectLaunch(ProcessEnvironment());
    ASSERT_TRUE(launch.ok()) << launch.status();
    GroupOptions options;
    options.timeout = absl::Seconds(60);
    absl::StatusOr<std::unique_ptr<ProcessGroup>> joined = JoinProcessGroup(*launch, options);
    ASSERT_TRUE(joined.ok()) << joined.status();
    group = std::move(*joined);
  }
  void TearDown() override { group.reset(); }
};

ProcessGroup& Group() { return *group; }

TEST(GroupTest, KnowsItsRankAndSize) {
  EXPECT_EQ(Group().size(), 2);
  EXPECT_EQ(Group().writes_outputs(), Group().rank() == 0);
}

TEST(GroupTest, AgreesWhenAnyProcessSaysYes) {
  EXPECT_TRUE(Group().Any(Group().rank() == 1));
  EXPECT_TRUE(Group().Any(true));
  EXPECT_FALSE(Group().Any(false));
}

TEST(GroupTest, SumsAndBroadcastsInPlace) {
  const torch::Tensor counts = torch::tensor({int64_t{1}, int64_t{10}}) * (Group().rank() + 1);
  const torch::Tensor loss = torch::tensor({0.5}, torch::kFloat64) * (Group().rank() + 1);
  ASSERT_TRUE(Group().Sum({counts, loss}).ok());
  EXPECT_TRUE(torch::equal(counts, torch::tensor({int64_t{3}, int64_t{30}})));
  EXPECT_DOUBLE_EQ(loss.item<double>(), 1.5);

  const torch::Tensor mine = torch::arange(6, torch::kFloat32).reshape({2, 3}) + 100 * Group().rank();
  const torch::Tensor strided = torch::zeros({1, 3, 2, 2}).contiguous(torch::MemoryFormat::ChannelsLast) +
                                Group().rank();
  ASSERT_TRUE(Group().Broadcast({mine, strided}).ok());
  EXPECT_TRUE(torch::equal(mine, torch::arange(6, torch::kFloat32).reshape({2, 3})));
  EXPECT_EQ(strided.sum().item<float>(), 0.0f);
}

TEST(GroupTest, SumWithGradientSumsBothWays) {
  const double mine = Group().rank() + 1.0;  // 1 and 2
  torch::Tensor x = torch::full({2}, mine, torch::requires_grad());
  torch::Tensor y = Group().SumWithGradient(x);
  EXPECT_TRUE(torch::allclose(y, torch::full({2}, 3.0)));
  (y * mine).sum().backward();
  // d(sum over processes of their outputs times their factor)/dx = 1 + 2 in both processes.
  EXPECT_TRUE(torch::allclose(x.grad(), torch::full({2}, 3.0)));
}

// Each process's batch, the same in every process given the rank.
std::pair<torch::Tensor, torch::Tensor> BatchOf(int rank, int step) {
  torch::manual_seed(1000 * step + rank);
  return {torch::randn({4, 5}), torch::randn({4, 3})};
}

torch::Tensor Loss(torch::nn::Sequential& model, const std::pair<torch::Tensor, torch::Tensor>& batch) {
  return torch::mse_loss(model->forward(batch.first), batch.second);
}

TEST(GroupTest, ShareModelGivesRankZerosWeightsAndAveragesGradients) {
  torch::manual_seed(7 + Group().rank());  // different initial weights in each process
  torch::nn::Sequential model(torch::nn::Linear(5, 8), torch::nn::ReLU(), torch::nn::Linear(8, 3));
  torch::manual_seed(7);
  torch::nn::Sequential reference(torch::nn::Linear(5, 8), torch::nn::ReLU(), torch::nn::Linear(8, 3));
  ASSERT_TRUE(Group().ShareModel(*model).ok());
  for (size_t i = 0; i < model->parameters().size(); ++i) {
    ASSERT_TRUE(torch::equal(model->parameters()[i], reference->parameters()[i])) << "parameter " << i;
  }

  torch::optim::SGD optimizer(model->parameters(), 0.1);
  torch::optim::SGD reference_optimizer(reference->parameters(), 0.1);
  for (int step = 0; step < 3; ++step) {  // the buckets are rebuilt after the first step
    // Two micro-batches per step: the first accumulates locally, the second averages.
    for (int micro = 0; micro < 2; ++micro) {
      Group().BeforeBackward(/*average_gradients=*/micro == 1);
      (Loss(model, BatchOf(Group().rank(), 2 * step + micro)) / 2).backward();
    }
    // The same step in one process: the mean of both processes' gradients.
    for (int rank = 0; rank < 2; ++rank) {
      for (int micro = 0; micro < 2; ++micro) (Loss(reference, BatchOf(rank, 2 * step + micro)) / 4).backward();
    }
    for (size_t i = 0; i < model->parameters().size(); ++i) {
      ASSERT_TRUE(torch::allclose(model->parameters()[i].grad(), reference->parameters()[i].grad(), 1e-5, 1e-6))
          << "step " << step << " parameter " << i;
    }
    optimizer.step();
    optimizer.zero_grad();
    reference_optimizer.step();
    reference_optimizer.zero_grad();
  }
}

}  // namespace
}  // namespace forge

int main(int argc, char** argv) {
  testing::AddGlobalTestEnvironment(new forge::GroupEnvironment);
  return forge::RunTestsOnRanks(argc, argv, 2);
}
