// Optimizers against PyTorch's torch.optim.SGD / AdamW on a tiny float64 problem (goldens from
// testdata/make_optimizer_golden.py, compared to 1e-12), the param-group split, SetLearningRate.
#include "lib/train/optimizer.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/train/golden_file.h"

namespace forge {
namespace {

using ::forge::train_testing::JoinFrom;
using ::forge::train_testing::ParseDoubles;
using ::forge::train_testing::ReadGoldenLines;

// The problem of make_optimizer_golden.py: fc.weight, fc.bias, bn.weight, bn.bias, in this order.
struct TinyImpl : torch::nn::Module {
  TinyImpl()
      : fc(register_module("fc", torch::nn::Linear(3, 2))),
        bn(register_module("bn", torch::nn::BatchNorm1d(2))) {}
  // out = (x @ W^T + b) * bn.weight + bn.bias (BN's affine part only, as in the Python script).
  torch::Tensor forward(const torch::Tensor& x) { return fc->forward(x) * bn->weight + bn->bias; }
  torch::nn::Linear fc;
  torch::nn::BatchNorm1d bn;
};
TORCH_MODULE(Tiny);

OptimizerConfig Parse(const std::string& text) {
  OptimizerConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config)) << text;
  return config;
}

torch::Tensor Values(const std::vector<double>& values) {
  return torch::tensor(values, torch::kFloat64);
}

TEST(OptimizerTest, MatchesPyTorchGoldens) {
  constexpr double kTolerance = 1e-12;  // absolute, on parameters of magnitude ~1
  std::vector<std::vector<std::string>> lines = ReadGoldenLines("optimizer_golden.txt");
  torch::Tensor x, target;
  std::vector<double> lrs;
  std::map<std::string, torch::Tensor> init;
  std::vector<std::pair<std::string, std::string>> configs;                 // name, text
  std::map<std::string, std::map<int, std::map<std::string, torch::Tensor>>> expected;  // name/step/param
  for (const std::vector<std::string>& line : lines) {
    ASSERT_GE(line.size(), 2u);
    if (line[0] == "x") {
      x = Values(ParseDoubles(line, 1, line.size())).view({4, 3});
    } else if (line[0] == "target") {
      target = Values(ParseDoubles(line, 1, line.size())).view({4, 2});
    } else if (line[0] == "lrs") {
      lrs = ParseDoubles(line, 1, line.size());
    } else if (line[0] == "init") {
      init[line[1]] = Values(ParseDoubles(line, 2, line.size()));
    } else if (line[0] == "config") {
      configs.emplace_back(line[1], JoinFrom(line, 2));
    } else {
      ASSERT_GE(line.size(), 4u);
      expected[line[0]][std::stoi(line[1])][line[2]] = Values(ParseDoubles(line, 3, line.size()));
    }
  }
  ASSERT_EQ(configs.size(), 5u);
  ASSERT_EQ(lrs.size(), 6u);
  for (const auto& [name, text] : configs) {
    SCOPED_TRACE(name);
    Tiny model;
    model->to(torch::kFloat64);
    {
      torch::NoGradGuard no_grad;
      for (auto& item : model->named_parameters()) item.value().copy_(init.at(item.key()).view_as(item.value()));
    }
    absl::StatusOr<std::unique_ptr<torch::optim::Optimizer>> optimizer = MakeOptimizer(Parse(text), *model, lrs[0]);
    ASSERT_TRUE(optimizer.ok()) << optimizer.status();
    for (size_t step = 1; step <= lrs.size(); ++step) {
      SetLearningRate(**optimizer, lrs[step - 1]);
      (*optimizer)->zero_grad();
      (model->forward(x) - target).pow(2).mean().backward();
      (*optimizer)->step();
      ASSERT_EQ(expected[name][step].size(), 4u) << "step " << step;
      for (auto& item : model->named_parameters()) {
        const torch::Tensor want = expected[name][step].at(item.key());
        const double error = (item.value().detach().flatten() - want).abs().max().item<double>();
        EXPECT_LE(error, kTolerance) << item.key() << " after step " << step << ": " << item.value() << " vs " << want;
      }
    }
  }
}

// The sizes of the parameters of each param group.
std::vector<std::vector<int64_t>> GroupNumels(const torch::optim::Optimizer& optimizer) {
  std::vector<std::vector<int64_t>> numels;
  for (const auto& group : optimizer.param_groups()) {
    numels.emplace_back();
    for (const torch::Tensor& p : group.params()) numels.back().push_back(p.numel());
  }
  return numels;
}

TEST(OptimizerTest, SplitsOneDimensionalParametersIntoAGroupWithoutWeightDecay) {
  // A conv-BN-linear stack: 2-D+ parameters conv.weight (8x3x3x3) and fc.weight (10x8);
  // 1-D: bn.weight, bn.bias (8 each) and fc.bias (10).
  torch::nn::Sequential model(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 8, 3).bias(false)),
                              torch::nn::BatchNorm2d(8), torch::nn::Flatten(), torch::nn::Linear(8, 10));
  for (const char* kind : {"sgd { momentum: 0.9 }", "adamw { beta1: 0.9 beta2: 0.999 eps: 1e-8 }"}) {
    SCOPED_TRACE(kind);
    const std::string text = std::string(kind) + " weight_decay: 5e-4 no_weight_decay_on_bn_and_bias: true";
    absl::StatusOr<std::unique_ptr<torch::optim::Optimizer>> optimizer = MakeOptimizer(Parse(text), *model, 0.1);
    ASSERT_TRUE(optimizer.ok()) << optimizer.status();
    EXPECT_EQ(GroupNumels(**optimizer), (std::vector<std::vector<int64_t>>{{216, 80}, {8, 8, 10}}));
    std::vector<double> decays;
    for (auto& group : (*optimizer)->param_groups()) {
      if (auto* sgd = dynamic_cast<torch::optim::SGDOptions*>(&group.options())) decays.push_back(sgd->weight_decay());
      if (auto* adamw = dynamic_cast<torch::optim::AdamWOptions*>(&group.options())) {
        decays.push_back(adamw->weight_decay());
      }
    }
    EXPECT_EQ(decays, (std::vector<double>{5e-4, 0.0}));

    // Without the flag: one group, with weight decay.
    absl::StatusOr<std::unique_ptr<torch::optim::Optimizer>> one =
        MakeOptimizer(Parse(std::string(kind) + " weight_decay: 5e-4"), *model, 0.1);
    ASSERT_TRUE(one.ok()) << one.status();
    EXPECT_EQ(GroupNumels(**one), (std::vector<std::vector<int64_t>>{{216, 8, 8, 80, 10}}));
  }
}

TEST(OptimizerTest, SkipsFrozenParametersAndEmptyGroups) {
  torch::nn::Sequential model(torch::nn::Linear(4, 3), torch::nn::BatchNorm1d(3));
  model->named_parameters()["0.weight"].set_requires_grad(false);
  absl::StatusOr<std::unique_ptr<torch::optim::Optimizer>> optimizer =
      MakeOptimizer(Parse("sgd { momentum: 0.9 } weight_decay: 1e-4 no_weight_decay_on_bn_and_bias: true"), *model, 0.1);
  ASSERT_TRUE(optimizer.ok()) << optimizer.status();
  // Only 1-D parameters are left, so there is a single (no weight decay) group.
  EXPECT_EQ(GroupNumels(**optimizer), (std::vector<std::vector<int64_t>>{{3, 3, 3}}));
  EXPECT_EQ(static_cast<torch::optim::SGDOptions&>((*optimizer)->param_groups()[0].options()).weight_decay(), 0.0);
}

TEST(OptimizerTest, SetMomentumSetsSgdsMomentumAndAdamWsBeta1) {
  torch::nn::Linear model(3, 2);
  OptimizerConfig sgd, adamw;
  sgd.mutable_sgd()->set_momentum(0.9);
  adamw.mutable_adamw()->set_beta1(0.9);
  adamw.mutable_adamw()->set_beta2(0.99);
  for (const OptimizerConfig& config : {sgd, adamw}) {
    absl::StatusOr<std::unique_ptr<torch::optim::Optimizer>> optimizer = MakeOptimizer(config, *model, 0.1);
    ASSERT_TRUE(optimizer.ok()) << optimizer.status();
    SetMomentum(**optimizer, 0.85);
    for (torch::optim::OptimizerParamGroup& group : (*optimizer)->param_groups()) {
      if (config.has_sgd()) {
        EXPECT_EQ(static_cast<torch::optim::SGDOptions&>(group.options()).momentum(), 0.85);
      } else {
        const auto betas = static_cast<torch::optim::AdamWOptions&>(group.options()).betas();
        EXPECT_EQ(std::get<0>(betas), 0.85);
        EXPECT_EQ(std::get<1>(betas), 0.99);
      }
    }
  }
}

TEST(OptimizerTest, SetLearningRateChangesEveryGroup) {
  torch::nn::Sequential model(torch::nn::Linear(4, 3), torch::nn::BatchNorm1d(3));
  absl::StatusOr<std::unique_ptr<torch::optim::Optimizer>> optimizer =
      MakeOptimizer(Parse("adamw { beta1: 0.9 beta2: 0.999 } weight_decay: 0.05 no_weight_decay_on_bn_and_bias: true"),
                    *model, 0.5);
  ASSERT_TRUE(optimizer.ok()) << optimizer.status();
  ASSERT_EQ((*optimizer)->param_groups().size(), 2u);
  for (const auto& group : (*optimizer)->param_groups()) EXPECT_EQ(group.options().get_lr(), 0.5);
  SetLearningRate(**optimizer, 0.0123);
  for (const auto& group : (*optimizer)->param_groups()) EXPECT_EQ(group.options().get_lr(), 0.0123);
}

// Two copies of one model, each with an optimizer from the same config.
struct Twins {
  explicit Twins(const std::string& config) {
    torch::manual_seed(11);
    a = Tiny();
    b = Tiny();
    // Different random biases and BN weights than the defaults, so that every parameter moves.
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < a->parameters().size(); ++i) {
      a->parameters()[i].copy_(torch::randn_like(a->parameters()[i]));
      b->parameters()[i].copy_(a->parameters()[i]);
    }
    unfused = *MakeOptimizer(Parse(config), *a, 0.05);
    fused = *MakeOptimizer(Parse(config), *b, 0.05);
  }
  // The same gradients (times `scale` for the fused copy) on both copies.
  void SetGradients(int step, double scale = 1) {
    torch::manual_seed(100 + step);
    for (size_t i = 0; i < a->parameters().size(); ++i) {
      const torch::Tensor grad = torch::randn_like(a->parameters()[i]);
      a->parameters()[i].mutable_grad() = grad.clone();
      b->parameters()[i].mutable_grad() = grad * scale;
    }
  }
  void ExpectEqual(const std::string& what, double tolerance) {
    for (size_t i = 0; i < a->parameters().size(); ++i) {
      EXPECT_TRUE(torch::allclose(a->parameters()[i], b->parameters()[i], /*rtol=*/tolerance, /*atol=*/tolerance))
          << what << ", parameter " << i << ": " << (a->parameters()[i] - b->parameters()[i]).abs().max().item<double>();
    }
  }
  Tiny a{nullptr}, b{nullptr};
  std::unique_ptr<torch::optim::Optimizer> unfused, fused;
};

// The fused SGD kernel against LibTorch's SGD (itself checked against PyTorch's goldens): float32,
// 1e-6 relative or absolute after 5 steps, for every variant the configs allow.
TEST(FusedStepTest, EqualsTheUnfusedStep) {
  for (const char* config : {"sgd { momentum: 0.9 } weight_decay: 1e-4",
                             "sgd { momentum: 0.9 nesterov: true } weight_decay: 5e-4 no_weight_decay_on_bn_and_bias: true",
                             "sgd { momentum: 0 }", "sgd { momentum: 0.5 } weight_decay: 0.01"}) {
    Twins twins(config);
    ASSERT_TRUE(SupportsFusedStep(*twins.fused));
    for (int step = 0; step < 5; ++step) {
      SetLearningRate(*twins.unfused, 0.05 + 0.01 * step);
      SetLearningRate(*twins.fused, 0.05 + 0.01 * step);
      twins.SetGradients(step);
      twins.unfused->step();
      FusedStep(*twins.fused);
      twins.ExpectEqual(absl::StrCat(config, ", step ", step), 1e-6);
    }
  }
}

TEST(FusedStepTest, UnscalesByGradScaleAndSkipsOnInf) {
  Twins twins("sgd { momentum: 0.9 nesterov: true } weight_decay: 1e-4");
  const torch::Tensor scale = torch::full({}, 1024.0f);
  const torch::Tensor finite = torch::zeros({});
  const torch::Tensor inf = torch::ones({});
  // A first step with inf gradients changes nothing, and the next step is a correct first step.
  twins.SetGradients(0, 1024);
  const torch::Tensor before = twins.b->parameters()[0].clone();
  FusedStep(*twins.fused, scale, inf);
  EXPECT_TRUE(torch::equal(twins.b->parameters()[0], before));
  for (int step = 1; step < 4; ++step) {
    twins.SetGradients(step, 1024);
    twins.unfused->step();
    FusedStep(*twins.fused, scale, finite);
    twins.ExpectEqual(absl::StrCat("scaled step ", step), 1e-6);
  }
}

// The state stays where SGD keeps it: a checkpoint of the fused optimizer loads into an unfused
// one (and back), which then steps exactly as the fused one does.
TEST(FusedStepTest, KeepsSgdsStateFormat) {
  Twins twins("sgd { momentum: 0.9 } weight_decay: 1e-4");
  for (int step = 0; step < 2; ++step) {
    twins.SetGradients(step);
    FusedStep(*twins.fused);
    twins.unfused->step();
  }
  std::stringstream saved;
  torch::serialize::OutputArchive archive;
  twins.fused->save(archive);
  archive.save_to(saved);
  torch::serialize::InputArchive loaded;
  loaded.load_from(saved);
  twins.unfused->load(loaded);
  twins.SetGradients(2);
  twins.unfused->step();
  FusedStep(*twins.fused);
  twins.ExpectEqual("after a save and load", 1e-6);
}

// The CUDA kernels, fp16 loss scaling's arguments included, against LibTorch's SGD on the GPU.
TEST(FusedStepTest, EqualsTheUnfusedStepOnCuda) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU here";
  Twins twins("sgd { momentum: 0.9 nesterov: true } weight_decay: 1e-4");
  twins.a->to(torch::kCUDA);
  twins.b->to(torch::kCUDA);
  // The optimizers hold the parameters moved in place (Module::to keeps the same tensors).
  const torch::Tensor scale = torch::full({}, 512.0f, torch::kCUDA);
  const torch::Tensor finite = torch::zeros({}, torch::kCUDA);
  for (int step = 0; step < 4; ++step) {
    torch::manual_seed(100 + step);
    for (size_t i = 0; i < twins.a->parameters().size(); ++i) {
      const torch::Tensor grad = torch::randn_like(twins.a->parameters()[i]);
      twins.a->parameters()[i].mutable_grad() = grad.clone();
      twins.b->parameters()[i].mutable_grad() = grad * 512;
    }
    twins.unfused->step();
    FusedStep(*twins.fused, scale, finite);
    twins.ExpectEqual(absl::StrCat("CUDA step ", step), 1e-5);
  }
  const torch::Tensor norm = ClipGradNorm(twins.b->parameters(), 1e-3);
  EXPECT_TRUE(norm.is_cuda());
}

// FusedStepper: SGD as FusedStep; AdamW's fused kernel against LibTorch's AdamW (float32, 1e-5
// after 6 steps, with and without decoupled weight decay), skipped steps not counted, and the
// step counts written back into the optimizer's state as LibTorch's AdamW keeps them.
TEST(FusedStepperTest, AdamWEqualsTheUnfusedStep) {
  for (const char* config : {"adamw { beta1: 0.9 beta2: 0.999 eps: 1e-8 } weight_decay: 0.05",
                             "adamw { beta1: 0 beta2: 0.99 eps: 1e-6 } weight_decay: 0.01 no_weight_decay_on_bn_and_bias: true"}) {
    Twins twins(config);
    ASSERT_TRUE(SupportsFusedStep(*twins.fused));
    FusedStepper stepper(*twins.fused);
    const torch::Tensor scale = torch::full({}, 64.0f);
    for (int step = 0; step < 6; ++step) {
      twins.SetGradients(step, 64);
      if (step == 2) {
        // An inf/NaN step: the fused one changes nothing and does not count; the unfused one is
        // not taken at all (what GradScaler does).
        const torch::Tensor before = twins.b->parameters()[0].clone();
        stepper.Step(scale, torch::ones({}));
        EXPECT_TRUE(torch::equal(twins.b->parameters()[0], before));
        continue;
      }
      twins.unfused->step();
      stepper.Step(scale, torch::zeros({}));
      twins.ExpectEqual(absl::StrCat(config, ", step ", step), 1e-5);
    }
    stepper.WriteBack();
    for (const torch::Tensor& p : twins.b->parameters()) {
      const auto& state = static_cast<const torch::optim::AdamWParamState&>(
          *twins.fused->state().at(p.unsafeGetTensorImpl()));
      const auto& expected = static_cast<const torch::optim::AdamWParamState&>(
          *twins.unfused->state().at(twins.a->parameters()[0].unsafeGetTensorImpl()));
      EXPECT_EQ(state.step(), expected.step());
      EXPECT_EQ(state.step(), 5);
    }
  }
}

TEST(FusedStepperTest, SgdStepsAsFusedStep) {
  Twins twins("sgd { momentum: 0.9 } weight_decay: 1e-4");
  FusedStepper stepper(*twins.fused);
  for (int step = 0; step < 3; ++step) {
    twins.SetGradients(step);
    twins.unfused->step();
    stepper.Step();
    twins.ExpectEqual(absl::StrCat("step ", step), 1e-6);
  }
  stepper.WriteBack();  // nothing to write for SGD
}

TEST(ClipGradNormTest, EqualsLibTorchsClipping) {
  for (double max_norm : {0.1, 1.0, 1e3}) {
    Twins twins("sgd { momentum: 0.9 }");
    twins.SetGradients(0);
    const double expected = torch::nn::utils::clip_grad_norm_(twins.a->parameters(), max_norm);
    const torch::Tensor norm = ClipGradNorm(twins.b->parameters(), max_norm);
    EXPECT_NEAR(norm.item<double>(), expected, 1e-5 * expected);
    for (size_t i = 0; i < twins.a->parameters().size(); ++i) {
      EXPECT_TRUE(torch::allclose(twins.a->parameters()[i].grad(), twins.b->parameters()[i].grad(), 1e-6, 1e-7))
          << "max_norm " << max_norm << ", parameter " << i;
    }
  }
}

TEST(OptimizerTest, RefusesBadConfigNamingTheField) {
  torch::nn::Linear model(2, 2);
  const std::pair<const char*, const char*> cases[] = {
      {"weight_decay: 1e-4", "no kind"},
      {"sgd { momentum: 0 nesterov: true }", "sgd.momentum"},
      {"sgd { momentum: -0.5 }", "sgd.momentum"},
      {"sgd { momentum: 0.9 } weight_decay: -1", "weight_decay"},
      {"adamw { beta1: 1.0 beta2: 0.999 }", "adamw.beta1"},
      {"adamw { beta1: 0.9 beta2: -0.1 }", "adamw.beta2"},
      {"adamw { beta1: 0.9 beta2: 0.99 eps: -1 }", "adamw.eps"},
  };
  for (const auto& [text, field] : cases) {
    absl::StatusOr<std::unique_ptr<torch::optim::Optimizer>> optimizer = MakeOptimizer(Parse(text), *model, 0.1);
    ASSERT_FALSE(optimizer.ok()) << text;
    EXPECT_TRUE(absl::IsInvalidArgument(optimizer.status())) << optimizer.status();
    EXPECT_TRUE(absl::StrContains(optimizer.status().message(), field)) << optimizer.status();
  }
}

}  // namespace
}  // namespace forge
