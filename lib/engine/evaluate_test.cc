#include "lib/engine/evaluate.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "lib/data/dataset.h"
#include "lib/data/normalize.h"
#include "lib/engine/input.h"
#include "proto/train_config.pb.h"
#include "testdata/tiny_training_inputs.h"
#include "testdata/scratch.h"

namespace forge {
namespace {

constexpr int kClasses = 10;
constexpr int kImages = 40;  // the tiny training inputs: 10 classes x 4 images

class EvaluateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<testdata::TinyTrainingInputs> inputs =
        testdata::WriteTinyTrainingInputs(testdata::NewScratchDir("inputs"));
    ASSERT_TRUE(inputs.ok()) << inputs.status();
    absl::StatusOr<std::unique_ptr<ImageDataset>> data = OpenImageDataset(inputs->train);
    ASSERT_TRUE(data.ok()) << data.status();
    data_ = std::move(*data);
    ChannelStats stats;
    for (int c = 0; c < 3; ++c) {
      stats.add_mean(0.5);
      stats.add_std(0.25);
    }
    absl::StatusOr<Normalizer> normalizer = Normalizer::Create(stats, torch::kCPU);
    ASSERT_TRUE(normalizer.ok());
    normalizer_.emplace(std::move(*normalizer));
    TrainConfig config;
    config.mutable_data()->set_eval_size(16);
    config.mutable_data()->set_eval_crop_ratio(0.875);
    config.mutable_data()->set_prefetch_batches(2);
    loader_ = EvalLoaderOptions(config, /*batch_size=*/kImages);  // one batch: row r is image r
  }

  std::unique_ptr<ImageDataset> data_;
  std::optional<Normalizer> normalizer_;
  LoaderOptions loader_;
};

// Logits that rank class c above c + 1 for every image: top-1 is class 0, top-5 classes 0-4.
torch::Tensor Descending(const torch::Tensor& images) {
  return -torch::arange(kClasses, torch::kFloat32).repeat({images.size(0), 1});
}

TEST_F(EvaluateTest, CountsLossPerClassAndConfusion) {
  absl::StatusOr<Evaluation> evaluation = Evaluate(Descending, *data_, loader_, *normalizer_, EvaluateOptions());
  ASSERT_TRUE(evaluation.ok()) << evaluation.status();
  const EvalResult& result = evaluation->result;
  ASSERT_EQ(result.images(), kImages);
  ASSERT_EQ(result.per_class_size(), kClasses);
  // The log-softmax of -c is -c - logsumexp(-0..-9): the loss of an image of class k is k + L.
  const double logsumexp = torch::logsumexp(-torch::arange(kClasses, torch::kFloat64), 0).item<double>();
  double loss_sum = 0;
  for (int c = 0; c < kClasses; ++c) {
    const ClassResult& per_class = result.per_class(c);
    EXPECT_EQ(per_class.support(), kImages / kClasses) << c;
    EXPECT_EQ(per_class.top1_hits(), c == 0 ? per_class.support() : 0) << c;
    EXPECT_EQ(per_class.top5_hits(), c < 5 ? per_class.support() : 0) << c;
    loss_sum += per_class.support() * (c + logsumexp);
    for (int predicted = 0; predicted < kClasses; ++predicted) {
      EXPECT_EQ(result.confusion(c * kClasses + predicted), predicted == 0 ? per_class.support() : 0);
    }
  }
  EXPECT_NEAR(result.loss(), loss_sum / kImages, 1e-5);
  EXPECT_DOUBLE_EQ(result.top1(), 10.0);
  EXPECT_DOUBLE_EQ(result.top5(), 50.0);
  EXPECT_EQ(result.predictions_size(), 0) << "only on request";
}

TEST_F(EvaluateTest, FlipTtaAveragesTheProbabilitiesOfTheImageAndItsMirror) {
  // The first forward of a batch sees the images, the second their mirror: each returns its own
  // logits, so the expected average is known.
  std::vector<torch::Tensor> inputs;
  const torch::Tensor a = torch::randn({kImages, kClasses}, torch::TensorOptions().dtype(torch::kFloat32));
  const torch::Tensor b = torch::randn({kImages, kClasses}, torch::TensorOptions().dtype(torch::kFloat32)) * 3;
  const auto forward = [&](const torch::Tensor& images) {
    inputs.push_back(images);
    return inputs.size() % 2 == 1 ? a : b;
  };
  EvaluateOptions options;
  options.flip_tta = true;
  options.predictions = true;
  absl::StatusOr<Evaluation> evaluation = Evaluate(forward, *data_, loader_, *normalizer_, options);
  ASSERT_TRUE(evaluation.ok()) << evaluation.status();
  ASSERT_EQ(inputs.size(), 2u);
  EXPECT_TRUE(torch::equal(inputs[1], inputs[0].flip({3})));

  const torch::Tensor p = (torch::softmax(a.to(torch::kFloat64), 1) + torch::softmax(b.to(torch::kFloat64), 1)) / 2;
  const EvalResult& result = evaluation->result;
  ASSERT_EQ(result.predictions_size(), kImages);
  double loss_sum = 0;
  for (int r = 0; r < kImages; ++r) {
    const ImagePrediction& prediction = result.predictions(r);
    loss_sum -= std::log(p[r][prediction.label()].item<double>());
    EXPECT_EQ(prediction.top5(0), p[r].argmax().item<int64_t>()) << r;
    EXPECT_NEAR(prediction.top5_probability(0), p[r].max().item<double>(), 1e-6) << r;
    EXPECT_EQ(prediction.top5_size(), 5);
    EXPECT_FALSE(prediction.source().empty());
  }
  EXPECT_NEAR(result.loss(), loss_sum / kImages, 1e-5);
}

// On CUDA the counting stays on the device (no per-batch reads) and gives the CPU's numbers.
TEST_F(EvaluateTest, CountsTheSameOnCuda) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU here";
  ChannelStats stats;
  for (int c = 0; c < 3; ++c) {
    stats.add_mean(0.5);
    stats.add_std(0.25);
  }
  absl::StatusOr<Normalizer> on_cuda = Normalizer::Create(stats, torch::kCUDA);
  ASSERT_TRUE(on_cuda.ok());
  const auto forward = [](const torch::Tensor& images) {
    EXPECT_TRUE(images.is_cuda());
    return Descending(images).to(torch::kCUDA) + images.mean({1, 2, 3}).view({-1, 1}) * 1e-3;
  };
  const auto on_cpu_forward = [](const torch::Tensor& images) {
    return Descending(images) + images.mean({1, 2, 3}).view({-1, 1}) * 1e-3;
  };
  absl::StatusOr<Evaluation> gpu = Evaluate(forward, *data_, loader_, *on_cuda, EvaluateOptions());
  absl::StatusOr<Evaluation> cpu = Evaluate(on_cpu_forward, *data_, loader_, *normalizer_, EvaluateOptions());
  ASSERT_TRUE(gpu.ok() && cpu.ok()) << gpu.status() << cpu.status();
  EXPECT_EQ(gpu->result.top1(), cpu->result.top1());
  EXPECT_EQ(gpu->result.top5(), cpu->result.top5());
  EXPECT_NEAR(gpu->result.loss(), cpu->result.loss(), 1e-5);
  EXPECT_EQ(std::vector<int64_t>(gpu->result.confusion().begin(), gpu->result.confusion().end()),
            std::vector<int64_t>(cpu->result.confusion().begin(), cpu->result.confusion().end()));
}

TEST_F(EvaluateTest, StopsWhenAsked) {
  EvaluateOptions options;
  options.stop = [] { return true; };
  absl::StatusOr<Evaluation> evaluation = Evaluate(Descending, *data_, loader_, *normalizer_, options);
  EXPECT_TRUE(absl::IsCancelled(evaluation.status())) << evaluation.status();
}

}  // namespace
}  // namespace forge
