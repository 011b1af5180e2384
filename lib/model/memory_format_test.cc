#include "lib/model/memory_format.h"

#include <gtest/gtest.h>

#include <string>

#include "lib/model/resnet.h"
#include "lib/model/testing.h"

namespace forge {
namespace {

constexpr auto kChannelsLast = torch::MemoryFormat::ChannelsLast;

ResNet Make18() {
  ResNetOptions options;
  options.depth = 18;
  options.num_classes = 10;
  return ResNet(options);
}

// A 4-D tensor with every size > 1 whose strides are NCHW's is not channels_last.
bool StridesAreChannelsLast(const torch::Tensor& t) {
  const auto s = t.strides();
  return s[1] == 1 && s[3] == t.size(1) && s[2] == t.size(1) * t.size(3);
}

TEST(ConvertToChannelsLastTest, KeepsForwardNumericsAndConvertsEveryFourDimensionalParameter) {
  torch::manual_seed(0);
  ResNet model = Make18();
  model_testing::SetDeterministicWeights(*model);
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = model_testing::DeterministicInput({2, 3, 64, 64});
  const torch::Tensor reference = model->forward(x);

  const torch::Tensor conv1_before = model->conv1->weight;  // shares the TensorImpl
  ConvertToChannelsLast(*model);
  EXPECT_TRUE(StridesAreChannelsLast(conv1_before));  // converted in place, not replaced
  int converted = 0;
  for (const auto& p : model->named_parameters()) {
    if (p.value().dim() != 4) continue;
    ++converted;
    EXPECT_TRUE(p.value().is_contiguous(kChannelsLast)) << p.key();
    if (p.value().size(2) > 1) {
      EXPECT_TRUE(StridesAreChannelsLast(p.value())) << p.key();
    }
  }
  EXPECT_EQ(converted, 20);  // conv1, 8 blocks x 2, 3 downsample convs
  EXPECT_TRUE(model->fc->weight.is_contiguous());

  const torch::Tensor logits = model->forward(x.contiguous(kChannelsLast));
  // Different kernels (NHWC) sum in a different order; logits here reach about 7.
  const double diff = (logits - reference).abs().max().item<double>();
  ::testing::Test::RecordProperty("max_abs_diff", std::to_string(diff));
  EXPECT_LE(diff, 1e-4 * (1 + reference.abs().max().item<double>())) << diff;
}

TEST(ConvertToChannelsLastTest, GradientsFollowAndTrainingStillWorks) {
  torch::manual_seed(0);
  ResNet model = Make18();
  model->train();
  const torch::Tensor x = torch::randn({2, 3, 32, 32});
  torch::nn::functional::cross_entropy(model->forward(x), torch::tensor({0, 1})).backward();
  ConvertToChannelsLast(*model);
  for (const auto& p : model->named_parameters()) {
    if (p.value().dim() != 4) continue;
    ASSERT_TRUE(p.value().grad().defined());
    EXPECT_TRUE(p.value().grad().is_contiguous(kChannelsLast)) << p.key();
  }
  // Another step accumulates into the converted gradients; the result stays channels_last-
  // compatible and finite.
  torch::nn::functional::cross_entropy(model->forward(x.contiguous(kChannelsLast)),
                                       torch::tensor({0, 1}))
      .backward();
  for (const auto& p : model->named_parameters()) {
    EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
  }
}

TEST(ConvertToChannelsLastTest, ConvertsFourDimensionalBuffersToo) {
  torch::nn::Module module;
  torch::Tensor buffer = module.register_buffer("b", torch::arange(2 * 3 * 4 * 5).view({2, 3, 4, 5}).to(torch::kFloat));
  torch::Tensor flat = module.register_buffer("v", torch::arange(6).to(torch::kFloat));
  const torch::Tensor before = buffer.clone();
  ConvertToChannelsLast(module);
  EXPECT_TRUE(StridesAreChannelsLast(module.named_buffers()["b"]));
  EXPECT_TRUE(torch::equal(module.named_buffers()["b"], before));
  EXPECT_TRUE(module.named_buffers()["v"].is_contiguous());
}

}  // namespace
}  // namespace forge
