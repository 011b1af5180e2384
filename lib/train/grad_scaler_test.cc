// GradScaler on CPU tensors (ATen ships CPU kernels of the _amp ops; the tests skip if a build
// lacks them): scaling, unscaling, inf/NaN detection, skipped steps, backoff, growth, state;
// the disabled pass-through; CUDA when present.
#include "lib/train/grad_scaler.h"

#include "lib/train/optimizer.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace forge {
namespace {

// Whether this LibTorch has CPU kernels of the ops GradScaler is built from.
bool CpuAmpKernelsAvailable() {
  try {
    std::vector<torch::Tensor> grads = {torch::ones({2})};
    torch::Tensor found_inf = torch::zeros({});
    at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf, torch::full({}, 0.5));
    torch::Tensor scale = torch::full({}, 2.0), tracker = torch::zeros({}, torch::kInt32);
    at::_amp_update_scale_(scale, tracker, found_inf, 2.0, 0.5, 10);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// One parameter w (3 values) and a plain SGD step of lr 0.5, so a step moves w by -0.5 * grad.
class GradScalerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CpuAmpKernelsAvailable()) GTEST_SKIP() << "this LibTorch has no CPU kernels of the _amp ops";
    w_ = torch::tensor({1.0f, 2.0f, 3.0f}).requires_grad_();
    optimizer_ = std::make_unique<torch::optim::SGD>(std::vector<torch::Tensor>{w_}, torch::optim::SGDOptions(0.5));
  }
  // loss = sum(w * x): the true gradient is x.
  torch::Tensor Loss(const std::vector<float>& x) { return (w_ * torch::tensor(x)).sum(); }
  std::vector<float> Values(const torch::Tensor& t) {
    torch::Tensor c = t.detach().contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  }

  torch::Tensor w_;
  std::unique_ptr<torch::optim::SGD> optimizer_;
};

TEST_F(GradScalerTest, ScalesTheLossAndUnscalesGradients) {
  GradScaler scaler(true, /*init_scale=*/1024.0);
  EXPECT_TRUE(scaler.enabled());
  EXPECT_EQ(scaler.scale(), 1024.0);
  torch::Tensor scaled = scaler.Scale(Loss({1, 2, 4}));
  EXPECT_FLOAT_EQ(scaled.item<float>(), 1024.0f * (1 + 4 + 12));
  scaled.backward();
  EXPECT_EQ(Values(w_.grad()), (std::vector<float>{1024, 2048, 4096}));
  EXPECT_TRUE(scaler.Unscale(*optimizer_));
  EXPECT_EQ(Values(w_.grad()), (std::vector<float>{1, 2, 4}));
  // A second Unscale in the same step changes nothing; Step does not unscale again.
  EXPECT_TRUE(scaler.Unscale(*optimizer_));
  EXPECT_TRUE(scaler.Step(*optimizer_));
  EXPECT_EQ(Values(w_), (std::vector<float>{0.5f, 1.0f, 1.0f}));
  scaler.Update();
  EXPECT_EQ(scaler.scale(), 1024.0);
  EXPECT_EQ(scaler.State(), (std::vector<double>{1024.0, 1.0}));
}

TEST_F(GradScalerTest, StepUnscalesWhenNotDoneYet) {
  GradScaler scaler(true, 256.0);
  scaler.Scale(Loss({2, 2, 2})).backward();
  EXPECT_TRUE(scaler.Step(*optimizer_));
  EXPECT_EQ(Values(w_), (std::vector<float>{0.0f, 1.0f, 2.0f}));
}

TEST_F(GradScalerTest, SkipsStepsWithInfOrNanAndBacksOff) {
  GradScaler scaler(true, 65536.0, 2.0, 0.5, 2000);
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  double expected_scale = 65536.0;
  for (float bad : {inf, -inf, nan}) {
    SCOPED_TRACE(bad);
    optimizer_->zero_grad();
    scaler.Scale(Loss({1, bad, 1})).backward();
    EXPECT_FALSE(scaler.Unscale(*optimizer_));
    EXPECT_FALSE(scaler.Step(*optimizer_));
    EXPECT_EQ(Values(w_), (std::vector<float>{1, 2, 3}));  // untouched
    scaler.Update();
    expected_scale *= 0.5;
    EXPECT_EQ(scaler.scale(), expected_scale);
    EXPECT_EQ(scaler.State(), (std::vector<double>{expected_scale, 0.0}));
  }
  // The scale itself overflowing fp32 gradients counts the same: 1e38 * 10 is inf.
  GradScaler huge(true, 1e38);
  optimizer_->zero_grad();
  huge.Scale(Loss({10, 1, 1})).backward();
  EXPECT_FALSE(huge.Step(*optimizer_));
  huge.Update();
  EXPECT_FLOAT_EQ(static_cast<float>(huge.scale()), 5e37f);
}

TEST_F(GradScalerTest, GrowsAfterGrowthIntervalFiniteSteps) {
  GradScaler scaler(true, 8.0, /*growth_factor=*/2.0, /*backoff_factor=*/0.25, /*growth_interval=*/3);
  const std::vector<std::vector<double>> states = {{8, 1}, {8, 2}, {16, 0}, {16, 1}, {4, 0}, {4, 1}};
  for (size_t i = 0; i < states.size(); ++i) {
    SCOPED_TRACE(i);
    optimizer_->zero_grad();
    const bool overflow = i == 4;  // the 5th step overflows: backoff and the tracker restarts
    scaler.Scale(Loss({0.25f, overflow ? std::numeric_limits<float>::infinity() : 0.0f, 0.0f})).backward();
    EXPECT_EQ(scaler.Step(*optimizer_), !overflow);
    scaler.Update();
    EXPECT_EQ(scaler.State(), states[i]);
  }
}

TEST_F(GradScalerTest, UnscalesEveryParamGroup) {
  torch::Tensor b = torch::tensor({5.0f}).requires_grad_();
  torch::optim::SGD optimizer({torch::optim::OptimizerParamGroup({w_}), torch::optim::OptimizerParamGroup({b})},
                              torch::optim::SGDOptions(1.0));
  GradScaler scaler(true, 4.0);
  scaler.Scale(Loss({1, 1, 1}) + 3 * b.sum()).backward();
  EXPECT_TRUE(scaler.Unscale(optimizer));
  EXPECT_EQ(Values(w_.grad()), (std::vector<float>{1, 1, 1}));
  EXPECT_EQ(Values(b.grad()), (std::vector<float>{3}));
}

TEST_F(GradScalerTest, StateRoundTrips) {
  GradScaler scaler(true, 2.0, 2.0, 0.5, 100);
  EXPECT_EQ(scaler.State(), (std::vector<double>{2.0, 0.0}));  // before the first Scale
  ASSERT_TRUE(scaler.LoadState({512.0, 7.0}).ok());
  EXPECT_EQ(scaler.scale(), 512.0);
  EXPECT_FLOAT_EQ(scaler.Scale(torch::tensor(1.0f)).item<float>(), 512.0f);
  EXPECT_EQ(scaler.State(), (std::vector<double>{512.0, 7.0}));
  ASSERT_TRUE(scaler.LoadState({64.0, 3.0}).ok());  // after the first Scale too
  EXPECT_EQ(scaler.State(), (std::vector<double>{64.0, 3.0}));

  for (const std::vector<double>& bad : std::vector<std::vector<double>>{
           {}, {1.0}, {1.0, 2.0, 3.0}, {0.0, 1.0}, {-2.0, 1.0}, {std::numeric_limits<double>::infinity(), 0.0},
           {std::numeric_limits<double>::quiet_NaN(), 0.0}, {2.0, -1.0}, {2.0, 1.5}}) {
    EXPECT_TRUE(absl::IsInvalidArgument(scaler.LoadState(bad))) << bad.size();
  }
  EXPECT_EQ(scaler.State(), (std::vector<double>{64.0, 3.0}));  // failed loads change nothing
}

// The fused step's path (no host sync) gives what Step gives: the same weights, the same skipped
// step for inf gradients, the same scale afterwards; with and without unscaling first (clipping).
TEST_F(GradScalerTest, FusedStepPathEqualsStep) {
  const float inf = std::numeric_limits<float>::infinity();
  for (bool unscale_first : {false, true}) {
    SCOPED_TRACE(unscale_first ? "unscaled first" : "unscaled by the fused step");
    torch::Tensor w2 = w_.detach().clone().requires_grad_();
    torch::optim::SGD fused({w2}, torch::optim::SGDOptions(0.5).momentum(0.9));
    torch::optim::SGD unfused({w_}, torch::optim::SGDOptions(0.5).momentum(0.9));
    GradScaler a(true, 1024.0, 2.0, 0.5, /*growth_interval=*/2), b(true, 1024.0, 2.0, 0.5, 2);
    const std::vector<std::vector<float>> xs = {{1, 2, 4}, {1, inf, 1}, {0.5, -1, 2}, {3, 1, 1}, {1, 1, 1}};
    for (const std::vector<float>& x : xs) {
      unfused.zero_grad();
      fused.zero_grad();
      a.Scale((w_ * torch::tensor(x)).sum()).backward();
      b.Scale((w2 * torch::tensor(x)).sum()).backward();
      a.Step(unfused);
      if (unscale_first) b.UnscaleOnDevice(fused);
      GradScaler::FusedStepArgs args = b.PrepareFusedStep(fused);
      EXPECT_EQ(args.grad_scale.defined(), !unscale_first);
      ASSERT_TRUE(args.found_inf.defined());
      FusedStep(fused, args.grad_scale, args.found_inf);
      a.Update();
      b.Update();
      EXPECT_TRUE(torch::allclose(w_, w2, 1e-6, 1e-6)) << Values(w_)[0] << " vs " << Values(w2)[0];
      EXPECT_EQ(a.scale(), b.scale());
    }
    w_ = torch::tensor({1.0f, 2.0f, 3.0f}).requires_grad_();
  }
}

TEST(GradScalerDisabledTest, PassesThrough) {
  torch::Tensor w = torch::tensor({1.0f, 2.0f}).requires_grad_();
  torch::optim::SGD optimizer({w}, torch::optim::SGDOptions(1.0));
  GradScaler scaler(false);
  EXPECT_FALSE(scaler.enabled());
  EXPECT_EQ(scaler.scale(), 1.0);
  torch::Tensor loss = (w * torch::tensor({1.0f, std::numeric_limits<float>::infinity()})).sum();
  torch::Tensor scaled = scaler.Scale(loss);
  EXPECT_TRUE(scaled.is_same(loss));
  scaled.backward();
  EXPECT_TRUE(scaler.Unscale(optimizer));  // no checks when disabled
  EXPECT_TRUE(scaler.Step(optimizer));     // steps even with an inf gradient
  EXPECT_EQ(w[0].item<float>(), 0.0f);
  scaler.Update();
  EXPECT_EQ(scaler.scale(), 1.0);
  EXPECT_TRUE(scaler.State().empty());
  EXPECT_TRUE(scaler.LoadState({}).ok());
  EXPECT_TRUE(scaler.LoadState({1024.0, 3.0}).ok());  // ignored
  EXPECT_EQ(scaler.scale(), 1.0);
}

TEST(GradScalerCudaTest, SkipsInfOnCuda) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU here";
  torch::Tensor w = torch::ones({4}, torch::kCUDA).requires_grad_();
  torch::optim::SGD optimizer({w}, torch::optim::SGDOptions(1.0));
  GradScaler scaler(true);
  torch::Tensor x = torch::tensor({1.0f, 1.0f, std::numeric_limits<float>::infinity(), 1.0f}).to(torch::kCUDA);
  scaler.Scale((w.to(torch::kHalf) * x.to(torch::kHalf)).sum()).backward();
  EXPECT_FALSE(scaler.Step(optimizer));
  scaler.Update();
  EXPECT_EQ(scaler.scale(), 32768.0);
}

}  // namespace
}  // namespace forge
