#include "lib/train/ema.h"

#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace forge {
namespace {

// A linear layer and a batch norm: parameters, floating buffers and an integer buffer.
struct NetImpl : torch::nn::Module {
  NetImpl() {
    linear = register_module("linear", torch::nn::Linear(3, 2));
    norm = register_module("norm", torch::nn::BatchNorm1d(2));
  }
  torch::Tensor forward(const torch::Tensor& x) { return norm(linear(x)); }
  torch::nn::Linear linear{nullptr};
  torch::nn::BatchNorm1d norm{nullptr};
};
TORCH_MODULE(Net);

// Sets every floating tensor of `net` to `value`, and num_batches_tracked to `count`.
void Fill(Net& net, float value, int64_t count) {
  torch::NoGradGuard no_grad;
  for (torch::Tensor& p : net->parameters()) p.fill_(value);
  net->norm->running_mean.fill_(value);
  net->norm->running_var.fill_(value);
  net->norm->num_batches_tracked.fill_(count);
}

TEST(ModelEmaTest, UpdateAveragesParametersAndFloatBuffersAndCopiesCounts) {
  Net model, averaged;
  Fill(averaged, 1.0f, 0);
  Fill(model, 3.0f, 7);
  EmaSchedule schedule;
  schedule.decay = 0.75;
  ModelEma ema(*averaged, schedule);
  ema.Update(*model, 0.75);
  // 0.75 * 1 + 0.25 * 3 = 1.5, in every parameter and running statistic.
  for (const torch::Tensor& p : averaged->parameters()) EXPECT_TRUE(torch::allclose(p, torch::full_like(p, 1.5)));
  EXPECT_TRUE(torch::allclose(averaged->norm->running_mean, torch::full({2}, 1.5)));
  EXPECT_TRUE(torch::allclose(averaged->norm->running_var, torch::full({2}, 1.5)));
  EXPECT_EQ(averaged->norm->num_batches_tracked.item<int64_t>(), 7);
  ema.Update(*model, 0.75);  // 0.75 * 1.5 + 0.25 * 3 = 1.875
  EXPECT_NEAR(averaged->linear->weight[0][0].item<double>(), 1.875, 1e-7);
  // The model is left alone.
  EXPECT_NEAR(model->linear->weight[0][0].item<double>(), 3.0, 0);
}

TEST(ModelEmaTest, AfterStepFollowsTheSchedule) {
  Net model, averaged;
  Fill(averaged, 0.0f, 0);
  Fill(model, 1.0f, 0);
  EmaSchedule schedule;
  schedule.decay = 0.5;
  schedule.every_steps = 2;
  schedule.copy_epochs = 1;
  ModelEma ema(*averaged, schedule);
  ema.AfterStep(*model, /*step=*/0, /*epoch=*/2);  // not due: steps 1, 3, 5, ...
  EXPECT_EQ(averaged->linear->bias[0].item<float>(), 0.0f);
  ema.AfterStep(*model, 1, 2);  // 0.5 * 0 + 0.5 * 1
  EXPECT_EQ(averaged->linear->bias[0].item<float>(), 0.5f);
  Fill(model, 4.0f, 0);
  ema.AfterStep(*model, 3, 1);  // epoch 1 <= copy_epochs: copies
  EXPECT_EQ(averaged->linear->bias[0].item<float>(), 4.0f);
}

TEST(EmaScheduleTest, WarmupDecayIsTensorFlowsNumUpdatesForm) {
  EmaSchedule schedule;
  schedule.decay = 0.999;
  schedule.every_steps = 4;
  schedule.warmup = true;
  EXPECT_DOUBLE_EQ(schedule.DecayAfter(3), 1.0 / 10);     // update t = 0
  EXPECT_DOUBLE_EQ(schedule.DecayAfter(7), 2.0 / 11);     // t = 1
  EXPECT_DOUBLE_EQ(schedule.DecayAfter(4 * 1000 - 1), 1000.0 / 1009);  // t = 999
  EXPECT_DOUBLE_EQ(schedule.DecayAfter(4 * 9000 - 1), 0.999);  // (1 + 8999) / (10 + 8999) > 0.999
  schedule.warmup = false;
  EXPECT_DOUBLE_EQ(schedule.DecayAfter(3), 0.999);
  EXPECT_TRUE(schedule.UpdatesAfter(3));
  EXPECT_FALSE(schedule.UpdatesAfter(4));
  EXPECT_NEAR(schedule.HorizonSteps(), 4000, 1e-9);
}

TrainConfig EmaConfigOf(double decay) {
  TrainConfig config;
  config.set_epochs(600);
  config.mutable_data()->set_batch_size(1024);
  config.mutable_ema()->set_decay(decay);
  return config;
}

TEST(EmaScheduleTest, TorchvisionAdjustScalesOneMinusDecayByBatchStepsAndEpochs) {
  // torchvision's ResNet-50 recipe: 8 x 128 images, --model-ema-steps 32, --model-ema-decay
  // 0.99998, 600 epochs: alpha = 2e-5 * 1024 * 32 / 600.
  TrainConfig config = EmaConfigOf(0.99998);
  config.mutable_ema()->set_every_steps(32);
  config.mutable_ema()->set_torchvision_adjust(true);
  absl::StatusOr<EmaSchedule> schedule = EmaScheduleOf(config);
  ASSERT_TRUE(schedule.ok()) << schedule.status();
  EXPECT_NEAR(schedule->decay, 1 - 2e-5 * 1024 * 32 / 600, 1e-12);
  EXPECT_EQ(schedule->every_steps, 32);
  // Capped: alpha never exceeds 1 (decay 0: the EMA is the weights).
  config.mutable_ema()->set_decay(0.5);
  EXPECT_EQ(EmaScheduleOf(config)->decay, 0.0);
}

TEST(EmaScheduleTest, RefusesBadFields) {
  for (double decay : {0.0, 1.0, -0.5, 2.0}) {
    absl::StatusOr<EmaSchedule> schedule = EmaScheduleOf(EmaConfigOf(decay));
    ASSERT_FALSE(schedule.ok());
    EXPECT_NE(schedule.status().message().find("ema.decay"), std::string::npos) << schedule.status();
  }
  TrainConfig config = EmaConfigOf(0.9);
  config.mutable_ema()->set_every_steps(0);
  EXPECT_NE(EmaScheduleOf(config).status().message().find("ema.every_steps"), std::string::npos);
  config = EmaConfigOf(0.9);
  config.mutable_ema()->set_copy_epochs(-1);
  EXPECT_NE(EmaScheduleOf(config).status().message().find("ema.copy_epochs"), std::string::npos);
}

TEST(EmaScheduleTest, WarnsWhenTheAverageIsFarFromAnEpoch) {
  EmaSchedule schedule;
  schedule.decay = 0.9999;  // 10000 steps
  // 16 epochs of 10 steps: the average reaches back over 62 runs' worth.
  EXPECT_NE(EmaHorizonWarning(schedule, 10, 160).find("more than half"), std::string::npos);
  // 1251 steps per epoch, 90 epochs: 8 epochs back, fine.
  EXPECT_EQ(EmaHorizonWarning(schedule, 1251, 90 * 1251), "");
  schedule.decay = 0.9;  // 10 steps, under a tenth of 1251
  EXPECT_NE(EmaHorizonWarning(schedule, 1251, 90 * 1251).find("follow the weights"), std::string::npos);
}

}  // namespace
}  // namespace forge
