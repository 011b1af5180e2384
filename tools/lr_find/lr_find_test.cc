// The range test with real training steps on a very small dataset: where the suggestion lands,
// what the curve records, divergence, and refusals.
#include "tools/lr_find/lr_find.h"

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testdata/tiny_training_inputs.h"
#include "tools/lr_find/curve.h"
#include "testdata/scratch.h"

namespace forge {
namespace {

// The shared tiny training inputs (testdata/tiny_training_inputs.h), written once.
const testdata::TinyTrainingInputs& Inputs() {
  static const testdata::TinyTrainingInputs* inputs = [] {
    absl::StatusOr<testdata::TinyTrainingInputs> written =
        testdata::WriteTinyTrainingInputs(testdata::NewScratchDir("inputs"));
    EXPECT_TRUE(written.ok()) << written.status();
    return new testdata::TinyTrainingInputs(written.ok() ? *written : testdata::TinyTrainingInputs{});
  }();
  return *inputs;
}

// ResNet-18 at 32 px, batch 8 (5 steps per epoch), SGD with momentum, deterministic.
LrFindOptions Options(double start_lr, double end_lr, int num_iter, const std::vector<std::string>& overrides = {}) {
  std::vector<std::string> all = {"model.name=\"resnet18\"", "data.batch_size=8", "data.image_size=32",
                                  "data.eval_size=32", "data.loader_threads=2", "optimizer.sgd.momentum=0.9",
                                  "deterministic=true", "seed=3"};
  all.insert(all.end(), overrides.begin(), overrides.end());
  absl::StatusOr<TrainConfig> config = LoadLrFindConfig("", all);
  EXPECT_TRUE(config.ok()) << config.status();
  LrFindOptions options;
  options.config = *config;
  options.train_data = Inputs().train;
  options.stats = Inputs().stats;
  options.device = "cpu";
  options.settings.set_start_lr(start_lr);
  options.settings.set_end_lr(end_lr);
  options.settings.set_num_iter(num_iter);
  return options;
}

TEST(LrFindTest, SuggestsAnLrWhereTheLossFalls) {
  const LrFindOptions options = Options(1e-4, 10, 50);
  absl::StatusOr<LrCurve> curve = RunLrFind(options);
  ASSERT_TRUE(curve.ok()) << curve.status();
  ASSERT_GE(curve->points_size(), kMinPointsToSuggest);
  ASSERT_LE(curve->points_size(), 50);
  for (int i = 0; i < curve->points_size(); ++i) {
    const LrPoint& point = curve->points(i);
    EXPECT_EQ(point.step(), i);
    EXPECT_DOUBLE_EQ(point.lr(), LrAtIteration(curve->settings(), i));
    EXPECT_TRUE(std::isfinite(point.loss())) << i;
    EXPECT_TRUE(std::isfinite(point.smoothed_loss())) << i;
  }
  EXPECT_NEAR(curve->points(0).loss(), std::log(10.0), 0.5) << "a fresh 10-class model starts near ln 10";

  ASSERT_EQ(curve->suggestion_status(), LrCurve::SUGGESTION_OK);
  EXPECT_GT(curve->suggested_lr(), options.settings.start_lr());
  EXPECT_LT(curve->suggested_lr(), options.settings.end_lr());
  EXPECT_LE(curve->suggested_lr(), curve->min_loss_lr());
  EXPECT_DOUBLE_EQ(curve->min_loss_lr_div10(), curve->min_loss_lr() / 10);
  // Where the loss falls: the smoothed loss at the suggestion is below where the test began, and
  // falls on to the minimum.
  int suggested = -1, lowest = -1;
  for (int i = 0; i < curve->points_size(); ++i) {
    if (curve->points(i).lr() == curve->suggested_lr()) suggested = i;
    if (curve->points(i).lr() == curve->min_loss_lr()) lowest = i;
  }
  ASSERT_GE(suggested, 0);
  ASSERT_GT(lowest, suggested);
  EXPECT_LT(curve->points(suggested).smoothed_loss(), curve->points(0).smoothed_loss());
  EXPECT_LT(curve->points(lowest).smoothed_loss(), curve->points(suggested).smoothed_loss());
  EXPECT_LT(curve->points(lowest).smoothed_loss(), 0.9 * curve->points(0).smoothed_loss()) << "a real fall";

  const LrFindSettings& settings = curve->settings();
  EXPECT_EQ(settings.start_lr(), 1e-4);
  EXPECT_EQ(settings.end_lr(), 10);
  EXPECT_EQ(settings.num_iter(), 50);
  EXPECT_EQ(settings.mode(), "exponential");
  EXPECT_EQ(settings.smoothing(), 0.05);
  EXPECT_EQ(settings.diverge_factor(), 5);
  EXPECT_EQ(settings.batch_size(), 8) << "0 takes the config's";
}

TEST(LrFindTest, StopsEarlyWhenTheLossDiverges) {
  absl::StatusOr<LrCurve> curve = RunLrFind(Options(1e-2, 1e5, 40));
  ASSERT_TRUE(curve.ok()) << curve.status();
  EXPECT_TRUE(curve->diverged());
  EXPECT_LT(curve->points_size(), 40);
  EXPECT_GT(curve->points_size(), 0);
}

TEST(LrFindTest, SameOptionsSameCurve) {
  LrFindOptions options = Options(1e-4, 1e-2, 6);
  options.settings.set_batch_size(4);
  options.settings.set_mode("linear");
  absl::StatusOr<LrCurve> first = RunLrFind(options);
  absl::StatusOr<LrCurve> second = RunLrFind(options);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(first->SerializeAsString(), second->SerializeAsString());
  EXPECT_EQ(first->points_size(), 6) << "6 steps of batch 4 run into a second epoch of 40 images";
  EXPECT_EQ(first->settings().batch_size(), 4);
  EXPECT_FALSE(first->diverged());
  EXPECT_NEAR(first->points(1).lr(), 1e-4 + (1e-2 - 1e-4) / 5, 1e-15);
  EXPECT_EQ(first->suggestion_status(), LrCurve::SUGGESTION_TOO_FEW_POINTS);
}

TEST(LrFindTest, GradAccumulationAndClippingRun) {
  absl::StatusOr<LrCurve> curve = RunLrFind(Options(1e-3, 1e-1, 3, {"grad_accumulation=2", "grad_clip_norm=1"}));
  ASSERT_TRUE(curve.ok()) << curve.status();
  EXPECT_EQ(curve->points_size(), 3);
  for (const LrPoint& point : curve->points()) EXPECT_TRUE(std::isfinite(point.loss()));
}

TEST(LoadLrFindConfigTest, EpochsAndScheduleMayBeLeftOut) {
  absl::StatusOr<TrainConfig> config = LoadLrFindConfig("", {"data.batch_size=8", "optimizer.sgd={}"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->epochs(), 1);
  EXPECT_TRUE(config->schedule().has_constant());
  config = LoadLrFindConfig("", {"data.batch_size=8", "optimizer.sgd={}", "epochs=30", "schedule.cosine={}"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->epochs(), 30) << "what is set is kept";
  EXPECT_TRUE(config->schedule().has_cosine());
  config = LoadLrFindConfig("", {"optimizer.sgd={}"});
  EXPECT_TRUE(absl::IsInvalidArgument(config.status()));
  EXPECT_NE(config.status().message().find("data.batch_size"), std::string::npos) << config.status();
  config = LoadLrFindConfig(testdata::NewScratchDir() + "/absent_recipe.txtpb", {});
  EXPECT_TRUE(absl::IsNotFound(config.status())) << config.status();
}

TEST(LrFindTest, RefusesBadInput) {
  LrFindOptions no_stats = Options(1e-4, 1, 10);
  no_stats.stats = testdata::NewScratchDir() + "/absent.txtpb";
  absl::Status status = RunLrFind(no_stats).status();
  EXPECT_TRUE(absl::IsNotFound(status)) << status;
  EXPECT_NE(status.message().find("absent.txtpb"), std::string::npos) << status;

  LrFindOptions no_data = Options(1e-4, 1, 10);
  no_data.train_data = testdata::NewScratchDir() + "/absent_dir";
  status = RunLrFind(no_data).status();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("absent_dir"), std::string::npos) << status;

  LrFindOptions backwards = Options(1, 1e-4, 10);
  status = RunLrFind(backwards).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(status.message().find("--end_lr"), std::string::npos) << status;

  LrFindOptions big_batch = Options(1e-4, 1, 10);
  big_batch.settings.set_batch_size(64);
  status = RunLrFind(big_batch).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(status.message().find("fewer than one batch of 64"), std::string::npos) << status;

  EXPECT_TRUE(absl::IsInvalidArgument(RunLrFind(Options(1e-4, 1, 10, {"precision=\"fp16\""})).status()))
      << "fp16 needs CUDA";
  EXPECT_TRUE(absl::IsInvalidArgument(RunLrFind(Options(1e-4, 1, 10, {"grad_accumulation=3"})).status()))
      << "batch 8 is not a multiple of 3";
  LrFindOptions bad_device = Options(1e-4, 1, 10);
  bad_device.device = "tpu";
  EXPECT_TRUE(absl::IsInvalidArgument(RunLrFind(bad_device).status()));
}

}  // namespace
}  // namespace forge
