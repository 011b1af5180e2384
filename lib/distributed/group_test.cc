// Runs as two MPI processes (mpi_testing.h): the group's collectives and gradient averaging.
#include "lib/distributed/group.h"

#include <cmath>
#include <memory>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "lib/distributed/launch.h"
#include "lib/distributed/mpi_testing.h"
#include "lib/model/resnet.h"

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

TEST(GroupTest, AgreesLaterOnSeveralFlags) {
  const int rank = Group().rank();
  std::function<ProcessGroup::Flags()> first = Group().AnyLater({rank == 1, false, true});
  std::function<ProcessGroup::Flags()> second = Group().AnyLater({false, rank == 0});
  EXPECT_EQ(second(), (ProcessGroup::Flags{false, true}));
  EXPECT_EQ(first(), (ProcessGroup::Flags{true, false, true}));
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

void CompareWithReference(bool sync);

TEST(GroupTest, ResNetGradientsAreTheMeanOfTheHalves) { CompareWithReference(false); }
TEST(GroupTest, SyncBatchNormGradientsAreThoseOfTheWholeBatch) { CompareWithReference(true); }

// ResNet-18, 2 images per process, against one process: with synchronised batch norm, one pass
// over all 4 images; without, the mean of two passes over 2.
void CompareWithReference(bool sync) {
  absl::StatusOr<ResNetOptions> options = ResNetOptionsFromName("resnet18", 10);
  ASSERT_TRUE(options.ok());
  // In float64, where rounding cannot hide a difference in the arithmetic: float32's differs
  // already with the convolutions' batch sizes (2 or 4), and SGD amplifies that step by step.
  torch::manual_seed(5);
  ResNet model(*options);
  model->to(torch::kFloat64);
  torch::manual_seed(5);
  ResNet reference(*options);
  reference->to(torch::kFloat64);
  if (sync) model->SyncBatchNorm([](const torch::Tensor& sums) { return Group().SumWithGradient(sums); });
  ASSERT_TRUE(Group().ShareModel(*model).ok());
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  torch::optim::SGD reference_optimizer(reference->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  for (int step = 0; step < 4; ++step) {
    torch::manual_seed(100 + step);
    const torch::Tensor images = torch::randn({4, 3, 64, 64}, torch::kFloat64);
    const torch::Tensor labels = torch::randint(10, {4});
    const int rank = Group().rank();
    Group().BeforeBackward(true);
    torch::nn::functional::cross_entropy(model->forward(images.narrow(0, 2 * rank, 2)), labels.narrow(0, 2 * rank, 2))
        .backward();
    if (sync) {
      torch::nn::functional::cross_entropy(reference->forward(images), labels).backward();
    } else {
      for (int half = 0; half < 2; ++half) {
        (torch::nn::functional::cross_entropy(reference->forward(images.narrow(0, 2 * half, 2)),
                                              labels.narrow(0, 2 * half, 2)) / 2).backward();
      }
    }
    // As one vector, |got - want| / |want| over all gradients: 1e-14 to 1e-12 measured.
    double difference = 0, norm = 0;
    for (size_t i = 0; i < model->parameters().size(); ++i) {
      const torch::Tensor& want = reference->parameters()[i].grad();
      difference += (model->parameters()[i].grad() - want).square().sum().item<double>();
      norm += want.square().sum().item<double>();
    }
    EXPECT_LT(std::sqrt(difference / norm), 1e-9) << "step " << step;
    for (size_t i = 0; sync && i < model->buffers().size(); ++i) {
      if (!model->buffers()[i].is_floating_point()) continue;
      EXPECT_TRUE(torch::allclose(model->buffers()[i], reference->buffers()[i], 1e-9, 1e-12))
          << "step " << step << " buffer " << i;
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
