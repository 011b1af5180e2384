#include "lib/model/summary.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace forge {
namespace {

ResNet Make(int depth) {
  ResNetOptions options;
  options.depth = depth;
  return ResNet(options);
}

std::map<std::string, LayerSummary> ByName(const ModelSummary& summary) {
  std::map<std::string, LayerSummary> layers;
  for (const LayerSummary& layer : summary.layers()) layers[layer.name()] = layer;
  return layers;
}

std::vector<int64_t> Shape(const LayerSummary& layer) {
  return {layer.output_shape().begin(), layer.output_shape().end()};
}

int64_t CountParameters(torch::nn::Module& module) {
  int64_t count = 0;
  for (const torch::Tensor& p : module.parameters()) count += p.numel();
  return count;
}

class SummaryTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

TEST_F(SummaryTest, ResNet50At224) {
  ResNet model = Make(50);
  model->train();
  const torch::Tensor running_mean_before = model->bn1->running_mean.clone();
  ModelSummary summary = SummarizeResNet(model);
  EXPECT_TRUE(model->is_training());  // mode restored
  EXPECT_TRUE(model->layer1->is_training());
  EXPECT_TRUE(torch::equal(model->bn1->running_mean, running_mean_before));  // ran in eval mode

  EXPECT_EQ(summary.model(), "resnet50");
  EXPECT_EQ(std::vector<int64_t>(summary.input_shape().begin(), summary.input_shape().end()),
            (std::vector<int64_t>{1, 3, 224, 224}));
  EXPECT_EQ(summary.total_parameters(), 25'557'032);
  EXPECT_EQ(summary.trainable_parameters(), 25'557'032);
  int64_t sum = 0;
  for (const LayerSummary& layer : summary.layers()) sum += layer.parameters();
  EXPECT_EQ(sum, summary.total_parameters());

  // Top level, in order.
  std::vector<std::string> top;
  for (const LayerSummary& layer : summary.layers()) {
    if (layer.depth() == 0) top.push_back(layer.name());
  }
  EXPECT_EQ(top, (std::vector<std::string>{"conv1", "bn1", "relu", "maxpool", "layer1", "layer2",
                                           "layer3", "layer4", "avgpool", "fc"}));
  EXPECT_EQ(summary.layers(0).name(), "conv1");

  const std::map<std::string, LayerSummary> layers = ByName(summary);
  // 1 stem conv + bn + relu + maxpool + 4 layers + avgpool + fc; 16 blocks of 8 modules
  // (itself, 3 conv, 3 bn, relu); 4 downsamples of 3 modules (itself, conv, bn).
  EXPECT_EQ(layers.size(), 10u + 16 * 8 + 4 * 3);
  auto expect = [&](const std::string& name, const std::string& type, std::vector<int64_t> shape,
                    int64_t parameters, int depth) {
    auto it = layers.find(name);
    ASSERT_NE(it, layers.end()) << name;
    EXPECT_EQ(it->second.type(), type) << name;
    EXPECT_EQ(Shape(it->second), shape) << name;
    EXPECT_EQ(it->second.parameters(), parameters) << name;
    EXPECT_EQ(it->second.depth(), depth) << name;
  };
  expect("conv1", "Conv2d", {1, 64, 112, 112}, 64 * 3 * 7 * 7, 0);
  expect("bn1", "BatchNorm2d", {1, 64, 112, 112}, 128, 0);
  expect("relu", "ReLU", {1, 64, 112, 112}, 0, 0);
  expect("maxpool", "MaxPool2d", {1, 64, 56, 56}, 0, 0);
  expect("layer1", "Sequential", {1, 256, 56, 56}, 0, 0);
  expect("layer2", "Sequential", {1, 512, 28, 28}, 0, 0);
  expect("layer3", "Sequential", {1, 1024, 14, 14}, 0, 0);
  expect("layer4", "Sequential", {1, 2048, 7, 7}, 0, 0);
  expect("avgpool", "AdaptiveAvgPool2d", {1, 2048, 1, 1}, 0, 0);
  expect("fc", "Linear", {1, 1000}, 2048 * 1000 + 1000, 0);
  expect("layer1.0", "Bottleneck", {1, 256, 56, 56}, 0, 1);
  expect("layer1.0.conv1", "Conv2d", {1, 64, 56, 56}, 64 * 64, 2);
  expect("layer1.0.relu", "ReLU", {1, 256, 56, 56}, 0, 2);  // last call: the block's output
  expect("layer2.0.conv1", "Conv2d", {1, 128, 56, 56}, 256 * 128, 2);
  expect("layer2.0.conv2", "Conv2d", {1, 128, 28, 28}, 128 * 128 * 9, 2);  // v1.5 stride
  expect("layer2.0.bn3", "BatchNorm2d", {1, 512, 28, 28}, 1024, 2);
  expect("layer2.0.downsample", "Sequential", {1, 512, 28, 28}, 0, 2);
  expect("layer2.0.downsample.0", "Conv2d", {1, 512, 28, 28}, 256 * 512, 3);
  expect("layer2.0.downsample.1", "BatchNorm2d", {1, 512, 28, 28}, 1024, 3);
  expect("layer4.2.conv3", "Conv2d", {1, 2048, 7, 7}, 512 * 2048, 2);
}

TEST_F(SummaryTest, ResNet18SmallInputBatchAndEvalModeKept) {
  ResNet model = Make(18);
  model->eval();
  ModelSummary summary = SummarizeResNet(model, {2, 3, 64, 64});
  EXPECT_FALSE(model->is_training());
  EXPECT_EQ(summary.model(), "resnet18");
  EXPECT_EQ(summary.total_parameters(), CountParameters(*model));
  const std::map<std::string, LayerSummary> layers = ByName(summary);
  EXPECT_EQ(layers.at("layer1.0").type(), "BasicBlock");
  EXPECT_EQ(Shape(layers.at("layer4")), (std::vector<int64_t>{2, 512, 2, 2}));
  EXPECT_EQ(Shape(layers.at("fc")), (std::vector<int64_t>{2, 1000}));
  EXPECT_EQ(layers.count("layer1.0.downsample"), 0u);
  EXPECT_EQ(Shape(layers.at("layer2.0.downsample.0")), (std::vector<int64_t>{2, 128, 8, 8}));
  for (const LayerSummary& layer : summary.layers()) {
    EXPECT_FALSE(layer.output_shape().empty()) << layer.name();
    EXPECT_EQ(layer.output_shape(0), 2) << layer.name();
  }
}

TEST_F(SummaryTest, FrozenParametersAreNotTrainable) {
  ResNet model = Make(18);
  for (torch::Tensor& p : model->fc->parameters()) p.set_requires_grad(false);
  ModelSummary summary = SummarizeResNet(model, {1, 3, 32, 32});
  EXPECT_EQ(summary.total_parameters(), 11'689'512);
  EXPECT_EQ(summary.trainable_parameters(), 11'689'512 - 512 * 1000 - 1000);
}

}  // namespace
}  // namespace forge
