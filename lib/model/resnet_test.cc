#include "lib/model/resnet.h"

#include <ATen/autocast_mode.h>

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/model/testing.h"
#include "testdata/scratch.h"

namespace forge {
namespace {

using model_testing::DeterministicInput;
using model_testing::ParseFloats;
using model_testing::ReadTestdata;
using model_testing::SetDeterministicWeights;
using model_testing::StateDict;

ResNet Make(int depth, int64_t num_classes = 1000, bool zero_init_residual = false) {
  ResNetOptions options;
  options.depth = depth;
  options.num_classes = num_classes;
  options.zero_init_residual = zero_init_residual;
  return ResNet(options);
}

int64_t CountParameters(torch::nn::Module& module) {
  int64_t count = 0;
  for (const torch::Tensor& p : module.parameters()) count += p.numel();
  return count;
}

// Max |a - b| <= atol + rtol * max|b|, with the worst difference in the message.
::testing::AssertionResult AllClose(const torch::Tensor& a, const torch::Tensor& b, double rtol,
                                    double atol) {
  if (a.sizes() != b.sizes()) {
    return ::testing::AssertionFailure() << "shapes differ: " << a.sizes() << " vs " << b.sizes();
  }
  const double diff = (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
  const double scale = b.to(torch::kDouble).abs().max().item<double>();
  const double bound = atol + rtol * scale;
  if (!(diff <= bound)) {
    return ::testing::AssertionFailure() << "max |a - b| = " << diff << " > " << bound
                                         << " (max |b| = " << scale << ")";
  }
  // Visible in the test's XML report (bazel-testlogs/.../test.xml).
  ::testing::Test::RecordProperty("max_abs_diff", absl::StrCat(diff, " (max |b| = ", scale, ")"));
  return ::testing::AssertionSuccess() << "max |a - b| = " << diff;
}

class ResNetTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

class ResNetDepthTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

std::string DepthName(const ::testing::TestParamInfo<int>& info) {
  return absl::StrCat("resnet", info.param);
}

TEST(ResNetOptionsFromNameTest, AcceptsTheFiveNames) {
  for (int depth : {18, 34, 50, 101, 152}) {
    absl::StatusOr<ResNetOptions> options = ResNetOptionsFromName(absl::StrCat("resnet", depth), 10);
    ASSERT_TRUE(options.ok()) << options.status();
    EXPECT_EQ(options->depth, depth);
    EXPECT_EQ(options->num_classes, 10);
    EXPECT_FALSE(options->zero_init_residual);
    EXPECT_EQ(ResNetName(*options), absl::StrCat("resnet", depth));
  }
}

TEST(ResNetOptionsFromNameTest, RefusesOtherNamesNamingTheAcceptedOnes) {
  for (const char* name : {"resnet", "resnet20", "ResNet50", "resnet50 ", "wide_resnet50_2", ""}) {
    absl::StatusOr<ResNetOptions> options = ResNetOptionsFromName(name, 1000);
    ASSERT_TRUE(absl::IsInvalidArgument(options.status())) << name;
    EXPECT_NE(options.status().message().find(absl::StrCat("\"", name, "\"")), std::string::npos);
    EXPECT_NE(options.status().message().find("resnet18, resnet34, resnet50, resnet101, resnet152"),
              std::string::npos)
        << options.status();
  }
}

TEST(ResNetOptionsFromNameTest, RefusesFewerThanOneClass) {
  EXPECT_TRUE(absl::IsInvalidArgument(ResNetOptionsFromName("resnet18", 0).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ResNetOptionsFromName("resnet18", -5).status()));
}

TEST_F(ResNetTest, ResNet50Has25557032Parameters) {
  ResNet model(ResNetOptions{});
  EXPECT_EQ(model->options().depth, 50);
  EXPECT_EQ(CountParameters(*model), 25'557'032);
}

// Counts from torchvision (testdata/param_counts.txt, written by make_golden.py).
TEST_P(ResNetDepthTest, ParameterCountMatchesTorchvision) {
  const std::string name = absl::StrCat("resnet", GetParam());
  int64_t expected = -1;
  for (const std::vector<std::string>& line : ReadTestdata("param_counts.txt")) {
    if (line[0] == name) {
      ASSERT_TRUE(absl::SimpleAtoi(line[1], &expected));
    }
  }
  ASSERT_GT(expected, 0) << name << " missing from param_counts.txt";
  ResNet model = Make(GetParam());
  EXPECT_EQ(CountParameters(*model), expected);
}

INSTANTIATE_TEST_SUITE_P(AllDepths, ResNetDepthTest, ::testing::Values(18, 34, 50, 101, 152),
                         DepthName);

class StateDictTest : public ResNetDepthTest {};

// Every key of torchvision's state dict, in its order, with its shape.
TEST_P(StateDictTest, KeysAndShapesMatchTorchvision) {
  const std::vector<std::vector<std::string>> golden =
      ReadTestdata(absl::StrCat("resnet", GetParam(), "_state_dict.txt"));
  ASSERT_FALSE(golden.empty());
  ResNet model = Make(GetParam());
  const auto entries = StateDict(*model);
  ASSERT_EQ(entries.size(), golden.size());
  for (size_t i = 0; i < golden.size(); ++i) {
    EXPECT_EQ(entries[i].first, golden[i][0]) << "entry " << i;
    std::vector<int64_t> shape;
    for (size_t j = 1; j < golden[i].size(); ++j) {
      int64_t d = 0;
      ASSERT_TRUE(absl::SimpleAtoi(golden[i][j], &d));
      shape.push_back(d);
    }
    EXPECT_EQ(entries[i].second.sizes().vec(), shape) << golden[i][0];
    const bool counter = golden[i][0].find("num_batches_tracked") != std::string::npos;
    EXPECT_EQ(entries[i].second.scalar_type(), counter ? torch::kLong : torch::kFloat) << golden[i][0];
  }
  // The same set through the LibTorch accessors the training code uses.
  EXPECT_EQ(model->named_parameters().size() + model->named_buffers().size(), golden.size());
}

// Logits for the deterministic weights and input of make_golden.py, computed by torchvision.
// The check tells the v1.5 stride placement from v1's: moving the stride to the 1x1 conv
// changes resnet50's logits by about 0.3-0.7, 30x more than the tolerance here.
TEST_P(StateDictTest, EvalForwardMatchesTorchvision) {
  ResNet model = Make(GetParam(), /*num_classes=*/10);
  SetDeterministicWeights(*model);
  model->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor logits = model->forward(DeterministicInput({1, 3, 64, 64}));
  const std::vector<std::vector<std::string>> golden =
      ReadTestdata(absl::StrCat("resnet", GetParam(), "_forward.txt"));
  ASSERT_EQ(golden.size(), 10u);
  torch::Tensor expected = torch::tensor(ParseFloats(golden, 0, 10)).view({1, 10});
  // Same kernels as PyTorch's (same LibTorch), different summation order at most.
  EXPECT_TRUE(AllClose(logits, expected, /*rtol=*/1e-4, /*atol=*/1e-4));
}

INSTANTIATE_TEST_SUITE_P(Torchvision, StateDictTest, ::testing::Values(18, 50), DepthName);

// Training mode: batch statistics in the forward pass, running statistics updated with
// momentum 0.1 (eps 1e-5), num_batches_tracked counted.
TEST_F(ResNetTest, TrainForwardAndRunningStatsMatchTorchvision) {
  ResNet model = Make(18, /*num_classes=*/10);
  SetDeterministicWeights(*model);
  model->train();
  torch::NoGradGuard no_grad;
  torch::Tensor logits = model->forward(DeterministicInput({2, 3, 64, 64}));
  const std::vector<std::vector<std::string>> golden = ReadTestdata("resnet18_train_forward.txt");
  ASSERT_EQ(golden.size(), 24u);
  torch::Tensor expected = torch::tensor(ParseFloats(golden, 0, 20)).view({2, 10});
  EXPECT_TRUE(AllClose(logits, expected, 1e-4, 1e-4));
  const auto buffers = model->named_buffers();
  for (size_t i = 20; i < 24; ++i) {
    const std::string& key = golden[i][0];  // e.g. "bn1.running_mean_sum"
    const std::string module = key.substr(0, key.rfind('.'));
    const std::string buffer = key.substr(key.rfind('.') + 1) == "running_mean_sum" ? "running_mean"
                                                                                    : "running_var";
    double expected_sum = 0;
    ASSERT_TRUE(absl::SimpleAtod(golden[i][1], &expected_sum));
    const torch::Tensor* tensor = buffers.find(module + "." + buffer);
    ASSERT_NE(tensor, nullptr) << module << "." << buffer;
    EXPECT_NEAR(tensor->to(torch::kDouble).sum().item<double>(), expected_sum,
                1e-5 * std::abs(expected_sum) + 1e-5)
        << key;
    const torch::Tensor* count = buffers.find(module + ".num_batches_tracked");
    ASSERT_NE(count, nullptr);
    EXPECT_EQ(count->item<int64_t>(), 1);
  }
}

TEST_F(ResNetTest, ConvsAreKaimingNormalFanOut) {
  ResNet model = Make(50);
  int convs = 0;
  for (const auto& item : model->named_modules()) {
    auto* conv = dynamic_cast<torch::nn::Conv2dImpl*>(item.value().get());
    if (conv == nullptr) continue;
    ++convs;
    EXPECT_FALSE(conv->bias.defined()) << item.key();
    const torch::Tensor w = conv->weight.to(torch::kDouble);
    const double fan_out = w.size(0) * w.size(2) * w.size(3);
    const double expected_std = std::sqrt(2.0 / fan_out);
    const double n = w.numel();
    // Standard errors: std / sqrt(n) for the mean, about std / sqrt(2n) for the std.
    EXPECT_NEAR(w.mean().item<double>(), 0.0, 5 * expected_std / std::sqrt(n)) << item.key();
    EXPECT_NEAR(w.std().item<double>(), expected_std, 5 * expected_std / std::sqrt(2 * n))
        << item.key();
  }
  EXPECT_EQ(convs, 53);  // conv1, 16 blocks x 3, 4 downsample convs
}

TEST_F(ResNetTest, BatchNormsStartAtIdentityAndFcKeepsLinearDefault) {
  ResNet model = Make(50);
  int bns = 0;
  for (const auto& item : model->named_modules()) {
    auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(item.value().get());
    if (bn == nullptr) continue;
    ++bns;
    EXPECT_TRUE(torch::equal(bn->weight, torch::ones_like(bn->weight))) << item.key();
    EXPECT_TRUE(torch::equal(bn->bias, torch::zeros_like(bn->bias))) << item.key();
    EXPECT_TRUE(torch::equal(bn->running_mean, torch::zeros_like(bn->running_mean)));
    EXPECT_TRUE(torch::equal(bn->running_var, torch::ones_like(bn->running_var)));
    EXPECT_DOUBLE_EQ(bn->options.eps(), 1e-5);
    ASSERT_TRUE(bn->options.momentum().has_value());
    EXPECT_DOUBLE_EQ(*bn->options.momentum(), 0.1);
  }
  EXPECT_EQ(bns, 53);
  // kaiming_uniform(a=sqrt(5)) and the bias rule both give U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  const double bound = 1.0 / std::sqrt(2048.0);
  const torch::Tensor w = model->fc->weight.to(torch::kDouble);
  EXPECT_LE(w.abs().max().item<double>(), bound);
  EXPECT_GT(w.abs().max().item<double>(), 0.99 * bound);
  EXPECT_NEAR(w.std().item<double>(), bound / std::sqrt(3.0), 0.01 * bound);
  EXPECT_LE(model->fc->bias.abs().max().item<double>(), bound);
  EXPECT_GT(model->fc->bias.abs().max().item<double>(), 0.9 * bound);
}

// 101 and 152 are built from the same Bottleneck as 50.
class ZeroInitResidualTest : public ResNetDepthTest {};

TEST_P(ZeroInitResidualTest, ZeroesOnlyEachBlocksLastBatchNorm) {
  const std::string last = GetParam() >= 50 ? "bn3" : "bn2";
  for (bool zero_init : {false, true}) {
    ResNet model = Make(GetParam(), 1000, zero_init);
    int zeroed = 0;
    for (const auto& item : model->named_modules()) {
      auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(item.value().get());
      if (bn == nullptr) continue;
      // Block BNs are "layerI.J.bnK"; downsample BNs and the stem's bn1 are never zeroed.
      const bool block_last = item.key().size() > last.size() && item.key().rfind("layer", 0) == 0 &&
                              item.key().substr(item.key().size() - last.size()) == last;
      const bool want_zero = zero_init && block_last;
      EXPECT_TRUE(torch::equal(bn->weight, want_zero ? torch::zeros_like(bn->weight)
                                                     : torch::ones_like(bn->weight)))
          << item.key() << " zero_init=" << zero_init;
      zeroed += want_zero;
    }
    const int blocks = GetParam() == 18 ? 8 : 16;
    EXPECT_EQ(zeroed, zero_init ? blocks : 0);
  }
}

INSTANTIATE_TEST_SUITE_P(BasicAndBottleneck, ZeroInitResidualTest, ::testing::Values(18, 34, 50),
                         DepthName);

TEST_F(ResNetTest, AcceptsAnyInputSizeFromThirtyTwo) {
  ResNet model = Make(18, 7);
  model->eval();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(model->forward(torch::randn({2, 3, 97, 80})).sizes(), (std::vector<int64_t>{2, 7}));
  EXPECT_EQ(model->forward(torch::randn({1, 3, 32, 32})).sizes(), (std::vector<int64_t>{1, 7}));
}

TEST_F(ResNetTest, ObservedForwardIsTheSameComputationAndSeesEveryModule) {
  ResNet model = Make(50, 10);
  SetDeterministicWeights(*model);
  model->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor x = DeterministicInput({1, 3, 64, 64});
  std::set<std::string> seen;
  torch::Tensor observed = model->ForwardObserved(
      x, [&](const std::string& path, const torch::Tensor&) { seen.insert(path); });
  EXPECT_TRUE(torch::equal(observed, model->forward(x)));
  std::set<std::string> modules;
  for (const auto& item : model->named_modules("", /*include_self=*/false)) modules.insert(item.key());
  EXPECT_EQ(seen, modules);
}

TEST_F(ResNetTest, CloneIsADeepCopy) {
  ResNet model = Make(18, 10);
  SetDeterministicWeights(*model);
  model->eval();
  auto copy = std::dynamic_pointer_cast<ResNetImpl>(model->clone());
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->options().depth, 18);
  EXPECT_EQ(copy->options().num_classes, 10);
  const auto original_entries = StateDict(*model);
  const auto copy_entries = StateDict(*copy);
  ASSERT_EQ(copy_entries.size(), original_entries.size());
  for (size_t i = 0; i < copy_entries.size(); ++i) {
    EXPECT_EQ(copy_entries[i].first, original_entries[i].first);
    EXPECT_TRUE(torch::equal(copy_entries[i].second, original_entries[i].second));
    EXPECT_NE(copy_entries[i].second.data_ptr(), original_entries[i].second.data_ptr());
  }
  torch::NoGradGuard no_grad;
  torch::Tensor x = DeterministicInput({1, 3, 64, 64});
  EXPECT_TRUE(torch::equal(copy->forward(x), model->forward(x)));
  // The typed members of the copy are its own modules.
  copy->layer4->ptr(1)->named_parameters()["conv2.weight"].zero_();
  EXPECT_FALSE(torch::equal(copy->forward(x), model->forward(x)));
}

// What checkpoints rely on: torch::save / torch::load round-trip every parameter and buffer.
TEST_F(ResNetTest, SaveAndLoadRoundTrip) {
  ResNet model = Make(18, 10);
  SetDeterministicWeights(*model);
  const std::string path = testdata::NewScratchDir() + "/resnet18.pt";
  torch::save(model, path);
  ResNet loaded = Make(18, 10);
  torch::load(loaded, path);
  const auto expected = StateDict(*model);
  const auto actual = StateDict(*loaded);
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(actual[i].first, expected[i].first);
    EXPECT_TRUE(torch::equal(actual[i].second, expected[i].second)) << actual[i].first;
  }
}

TEST_F(ResNetTest, BackwardReachesEveryParameter) {
  ResNet model = Make(18, 10);
  model->train();
  torch::Tensor logits = model->forward(torch::randn({2, 3, 64, 64}));
  torch::nn::functional::cross_entropy(logits, torch::tensor({1, 7})).backward();
  for (const auto& p : model->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
}

// CPU autocast to bfloat16 for the guard's lifetime, restoring the previous state afterwards.
class CpuBf16Autocast {
 public:
  CpuBf16Autocast()
      : enabled_(at::autocast::is_autocast_enabled(at::kCPU)),
        dtype_(at::autocast::get_autocast_dtype(at::kCPU)) {
    at::autocast::set_autocast_enabled(at::kCPU, true);
    at::autocast::set_autocast_dtype(at::kCPU, at::kBFloat16);
    at::autocast::increment_nesting();
  }
  ~CpuBf16Autocast() {
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(at::kCPU, enabled_);
    at::autocast::set_autocast_dtype(at::kCPU, dtype_);
  }

 private:
  const bool enabled_;
  const at::ScalarType dtype_;
};

// bfloat16 keeps 8 bits of mantissa (relative step 2^-8 = 0.4%); through 18 layers the logits
// stay within 5% of their largest magnitude here (measured: about 1%).
TEST_F(ResNetTest, CpuBf16AutocastForwardIsCloseToFloat) {
  ResNet model = Make(18, 10);
  SetDeterministicWeights(*model);
  model->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor x = DeterministicInput({1, 3, 64, 64});
  torch::Tensor reference = model->forward(x);
  torch::Tensor logits;
  {
    CpuBf16Autocast autocast;
    logits = model->forward(x);
  }
  EXPECT_FALSE(at::autocast::is_autocast_enabled(at::kCPU));
  EXPECT_EQ(logits.scalar_type(), torch::kBFloat16);  // the fc ran in bfloat16: autocast was on
  EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
  EXPECT_TRUE(AllClose(logits.to(torch::kFloat), reference, /*rtol=*/0.05, /*atol=*/0.0));
  EXPECT_EQ(logits.argmax(1).item<int64_t>(), reference.argmax(1).item<int64_t>());
}

TEST_F(ResNetTest, CpuBf16AutocastTrainingStepGivesFloatGradients) {
  ResNet model = Make(18, 10);
  model->train();
  torch::Tensor loss;
  {
    CpuBf16Autocast autocast;
    torch::Tensor logits = model->forward(torch::randn({2, 3, 64, 64}));
    loss = torch::nn::functional::cross_entropy(logits, torch::tensor({3, 4}));
  }
  loss.backward();
  EXPECT_TRUE(std::isfinite(loss.item<float>()));
  for (const auto& p : model->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_EQ(p.value().grad().scalar_type(), torch::kFloat) << p.key();
    EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
  }
}

}  // namespace
}  // namespace forge

namespace forge {
namespace {

// Stochastic depth drops a block's whole branch for some samples in training (the block then
// passes its input through: a ReLU of a ReLU's output) and doubles the others' at rate 0.5; never
// in evaluation, and never in the first block (rate 0 there, rising linearly to the last's).
TEST(StochasticDepthTest, DropsWholeBranchesPerSampleInTrainingOnly) {
  ResNetOptions options;
  options.depth = 18;
  options.num_classes = 10;
  options.stochastic_depth = 0.5;
  torch::manual_seed(1);
  ResNet model(options);
  ResNetOptions plain_options = options;
  plain_options.stochastic_depth = 0;
  ResNet plain(plain_options);
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < model->parameters().size(); ++i) plain->parameters()[i].copy_(model->parameters()[i]);
  }
  const torch::Tensor x = torch::randn({16, 3, 64, 64});
  model->eval();
  plain->eval();
  EXPECT_TRUE(torch::equal(model->forward(x), plain->forward(x))) << "evaluation keeps every branch";

  model->train();
  std::map<std::string, torch::Tensor> outputs;
  torch::manual_seed(2);
  model->ForwardObserved(x, [&](const std::string& path, const torch::Tensor& out) { outputs[path] = out.clone(); });
  const auto passed_through = [&](const std::string& block, const std::string& input) {
    int count = 0;
    for (int64_t n = 0; n < x.size(0); ++n) count += torch::equal(outputs[block][n], outputs[input][n]);
    return count;
  };
  const int last = passed_through("layer4.1", "layer4.0");  // rate 0.5: about half the samples
  EXPECT_GT(last, 0);
  EXPECT_LT(last, 16);
  // As torchvision.ops.stochastic_depth(branch, 0.5, "row", training=True): each sample's branch
  // times bernoulli(0.5) / 0.5, added to the block's input.
  for (int64_t n = 0; n < x.size(0); ++n) {
    const torch::Tensor input = outputs["layer4.0"][n], branch = outputs["layer4.1.bn2"][n];
    const torch::Tensor out = outputs["layer4.1"][n];
    EXPECT_TRUE(torch::equal(out, torch::relu(input)) || torch::allclose(out, torch::relu(branch * 2 + input)))
        << "sample " << n;
  }
  EXPECT_EQ(passed_through("layer1.0", "maxpool"), 0) << "the first block's rate is 0";
}

// FFCV's blur: each channel convolved with [1 2 1]^T [1 2 1] / 16, zero padding 1.
TEST(BlurPoolTest, BlurIsFfcvsFilter) {
  torch::manual_seed(4);
  const torch::Tensor x = torch::randn({2, 3, 5, 6});
  const torch::Tensor blurred = Blur(x);
  ASSERT_EQ(blurred.sizes(), x.sizes());
  const torch::Tensor padded = torch::constant_pad_nd(x, {1, 1, 1, 1});
  const double w[3] = {1, 2, 1};
  for (int64_t n = 0; n < 2; ++n) {
    for (int64_t c = 0; c < 3; ++c) {
      for (int64_t i = 0; i < 5; ++i) {
        for (int64_t j = 0; j < 6; ++j) {
          double sum = 0;
          for (int di = 0; di < 3; ++di) {
            for (int dj = 0; dj < 3; ++dj) sum += w[di] * w[dj] * padded[n][c][i + di][j + dj].item<double>();
          }
          ASSERT_NEAR(blurred[n][c][i][j].item<double>(), sum / 16, 1e-5);
        }
      }
    }
  }
  // Channels are blurred separately, in any memory format.
  EXPECT_TRUE(torch::allclose(Blur(x.contiguous(torch::MemoryFormat::ChannelsLast)), blurred, 1e-6, 1e-6));
}

// BlurPool adds no parameters or buffers (torchvision's state dict) and changes only what follows
// the first strided block: layer1 (stride 1) computes the same, layer2 on differs.
TEST(BlurPoolTest, BlursStridedBlocksOnlyAndKeepsTheStateDict) {
  for (int depth : {18, 50}) {
    ResNetOptions options;
    options.depth = depth;
    options.num_classes = 10;
    torch::manual_seed(6);
    ResNet plain(options);
    options.blurpool = true;
    ResNet blurred(options);
    const auto plain_state = plain->named_parameters(), blurred_state = blurred->named_parameters();
    ASSERT_EQ(plain_state.keys(), blurred_state.keys());
    EXPECT_EQ(plain->named_buffers().keys(), blurred->named_buffers().keys());
    {
      torch::NoGradGuard no_grad;
      for (const auto& item : plain_state) blurred_state[item.key()].copy_(item.value());
    }
    plain->eval();
    blurred->eval();
    std::map<std::string, torch::Tensor> a, b;
    const torch::Tensor x = torch::randn({2, 3, 64, 64});
    plain->ForwardObserved(x, [&](const std::string& path, const torch::Tensor& out) { a[path] = out.clone(); });
    blurred->ForwardObserved(x, [&](const std::string& path, const torch::Tensor& out) { b[path] = out.clone(); });
    EXPECT_TRUE(torch::equal(a["layer1"], b["layer1"])) << depth;
    EXPECT_FALSE(torch::allclose(a["layer2"], b["layer2"])) << depth;
  }
}

// Synchronised over a group of one (the sum is the identity), a batch norm must compute what
// torch::nn::BatchNorm2d computes: outputs, gradients and running statistics.
TEST(BatchNorm2dTest, SynchronisedOverOneProcessIsTorchsBatchNorm) {
  torch::manual_seed(3);
  BatchNorm2d synced(torch::nn::BatchNorm2dOptions(6));
  torch::nn::BatchNorm2d plain(torch::nn::BatchNorm2dOptions(6));
  {
    torch::NoGradGuard no_grad;
    for (BatchNorm2dImpl* bn : {synced.get()}) {
      bn->weight.uniform_(0.5, 1.5);
      bn->bias.uniform_(-0.5, 0.5);
    }
    plain->weight.copy_(synced->weight);
    plain->bias.copy_(synced->bias);
  }
  synced->Synchronize([](const torch::Tensor& sums) { return sums * 1.0; });
  for (int step = 0; step < 3; ++step) {
    const torch::Tensor x = torch::randn({4, 6, 3, 5}) * 3 + 2;
    const torch::Tensor x1 = x.clone().requires_grad_(), x2 = x.clone().requires_grad_();
    const torch::Tensor y1 = synced->forward(x1), y2 = plain->forward(x2);
    EXPECT_TRUE(torch::allclose(y1, y2, 1e-4, 1e-5)) << "step " << step;
    const torch::Tensor upstream = torch::randn_like(y1);
    (y1 * upstream).sum().backward();
    (y2 * upstream).sum().backward();
    EXPECT_TRUE(torch::allclose(x1.grad(), x2.grad(), 1e-4, 1e-5)) << "step " << step;
    EXPECT_TRUE(torch::allclose(synced->weight.grad(), plain->weight.grad(), 1e-4, 1e-5));
    EXPECT_TRUE(torch::allclose(synced->running_mean, plain->running_mean, 1e-5, 1e-6));
    EXPECT_TRUE(torch::allclose(synced->running_var, plain->running_var, 1e-5, 1e-6));
  }
  EXPECT_EQ(synced->num_batches_tracked.item<int64_t>(), 3);
}

}  // namespace
}  // namespace forge
