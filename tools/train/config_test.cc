#include "tools/train/config.h"

#include <gtest/gtest.h>

namespace forge {
namespace {

TEST(ConfigTest, RecipesLoadAndResolve) {
  for (const char* recipe : {"tools/train/recipes/resnet50_imagenet_1gpu.txtpb", "tools/train/recipes/tiny_cpu.txtpb"}) {
    absl::StatusOr<TrainConfig> config = LoadConfig(recipe, {});
    ASSERT_TRUE(config.ok()) << recipe << ": " << config.status();
    EXPECT_GT(config->epochs(), 0);
    EXPECT_TRUE(config->data().flip());
  }
  absl::StatusOr<TrainConfig> r50 = LoadConfig("tools/train/recipes/resnet50_imagenet_1gpu.txtpb", {});
  EXPECT_EQ(r50->model().name(), "resnet50");
  EXPECT_EQ(r50->data().batch_size(), 256);
  EXPECT_DOUBLE_EQ(r50->optimizer().sgd().momentum(), 0.9);
  EXPECT_DOUBLE_EQ(r50->optimizer().weight_decay(), 1e-4);
  EXPECT_DOUBLE_EQ(r50->label_smoothing(), 0.1);
  EXPECT_EQ(r50->precision(), "fp16");
  EXPECT_TRUE(r50->schedule().has_one_cycle());
}

TEST(ConfigTest, OverridesSetSingleFields) {
  absl::StatusOr<TrainConfig> config = LoadConfig(
      "tools/train/recipes/resnet50_imagenet_1gpu.txtpb",
      {"data.batch_size=128", "epochs=90", "schedule.one_cycle.pct_start=0.3", "precision=\"bf16\"",
       "optimizer.sgd.nesterov=true", "data.flip=false"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->data().batch_size(), 128);
  EXPECT_EQ(config->epochs(), 90);
  EXPECT_DOUBLE_EQ(config->schedule().one_cycle().pct_start(), 0.3);
  EXPECT_DOUBLE_EQ(config->schedule().one_cycle().div_factor(), 25);  // untouched
  EXPECT_EQ(config->precision(), "bf16");
  EXPECT_TRUE(config->optimizer().sgd().nesterov());
  EXPECT_FALSE(config->data().flip());
}

TEST(ConfigTest, DefaultsFillUnsetFields) {
  absl::StatusOr<TrainConfig> config =
      LoadConfig("", {"data.batch_size=64", "epochs=2", "optimizer.sgd.nesterov=false", "schedule.cosine.final_lr=0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->model().name(), "resnet50");
  EXPECT_EQ(config->data().image_size(), 224);
  EXPECT_DOUBLE_EQ(config->data().min_scale(), 0.08);
  EXPECT_DOUBLE_EQ(config->data().eval_crop_ratio(), 0.875);
  EXPECT_TRUE(config->data().flip());
  EXPECT_DOUBLE_EQ(config->optimizer().sgd().momentum(), 0.9);
  EXPECT_DOUBLE_EQ(config->schedule().base_lr(), 0.1);
  EXPECT_EQ(config->grad_accumulation(), 1);
  EXPECT_EQ(config->precision(), "fp32");
}

TEST(ConfigTest, BadConfigsNameTheField) {
  struct Case {
    std::vector<std::string> overrides;
    const char* field;
  };
  const std::vector<Case> cases = {
      {{"epochs=2", "optimizer.sgd.momentum=0.9", "schedule.constant={}"}, "data.batch_size"},
      {{"data.batch_size=8", "optimizer.sgd.momentum=0.9", "schedule.constant={}"}, "epochs"},
      {{"data.batch_size=8", "epochs=1", "schedule.constant={}"}, "optimizer"},
      {{"data.batch_size=8", "epochs=1", "optimizer.sgd.momentum=0.9"}, "schedule"},
      {{"data.batch_size=8", "epochs=1", "optimizer.sgd.momentum=0.9", "schedule.one_cycle.pct_start=1.5"},
       "pct_start"},
      {{"data.batch_size=8", "epochs=1", "optimizer.sgd.momentum=0.9", "schedule.step.gamma=0.1",
        "precision=\"fp8\""},
       "precision"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<TrainConfig> config = LoadConfig("", c.overrides);
    ASSERT_FALSE(config.ok()) << c.field;
    EXPECT_TRUE(absl::IsInvalidArgument(config.status()));
    EXPECT_NE(config.status().message().find(c.field), std::string::npos) << config.status();
  }
}

TEST(ConfigTest, MalformedOverridesAreRefused) {
  TrainConfig config;
  EXPECT_TRUE(absl::IsInvalidArgument(ApplyOverrides({"no_equals_sign"}, &config)));
  EXPECT_TRUE(absl::IsInvalidArgument(ApplyOverrides({"unknown_field=3"}, &config)));
  EXPECT_TRUE(absl::IsInvalidArgument(ApplyOverrides({"epochs=three"}, &config)));
  EXPECT_TRUE(absl::IsInvalidArgument(LoadConfig("/no/such/recipe.txtpb", {}).status()) ||
              absl::IsNotFound(LoadConfig("/no/such/recipe.txtpb", {}).status()));
}

TrainConfig Resolved(std::vector<std::string> overrides) {
  std::vector<std::string> all = {"data.batch_size=8", "epochs=10", "optimizer.sgd.momentum=0.9",
                                  "schedule.constant={}"};
  all.insert(all.end(), overrides.begin(), overrides.end());
  absl::StatusOr<TrainConfig> config = LoadConfig("", all);
  EXPECT_TRUE(config.ok()) << config.status();
  return *config;
}

TEST(ConfigTest, CheckpointDefaultsAndLimits) {
  EXPECT_EQ(Resolved({}).checkpoint().every_minutes(), 2.0);
  EXPECT_EQ(Resolved({"checkpoint.every_minutes=-1"}).checkpoint().every_minutes(), -1.0);
  for (const char* bad : {"checkpoint.keep=-1", "checkpoint.every_epochs=-2", "checkpoint.every_steps=-3"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(LoadConfig("", {"data.batch_size=8", "epochs=1", "optimizer.sgd.momentum=0.9",
                                                        "schedule.constant={}", bad})
                                            .status()))
        << bad;
  }
}

TEST(ConfigTest, SameRunIgnoresRunSettingsOnly) {
  const TrainConfig saved = Resolved({});
  EXPECT_TRUE(CheckSameRun(saved, Resolved({})).ok());
  const TrainConfig settings =
      Resolved({"data.loader_threads=3", "data.prefetch_batches=9", "checkpoint.every_steps=5", "log_every_steps=2"});
  EXPECT_TRUE(CheckSameRun(saved, settings).ok());
  const TrainConfig continued = ContinueRunWith(saved, settings);
  EXPECT_EQ(continued.data().loader_threads(), 3);
  EXPECT_EQ(continued.checkpoint().every_steps(), 5);
  EXPECT_EQ(continued.data().batch_size(), 8);

  absl::Status status = CheckSameRun(saved, Resolved({"optimizer.weight_decay=0.001"}));
  EXPECT_TRUE(absl::IsFailedPrecondition(status));
  EXPECT_NE(status.message().find("weight_decay"), std::string::npos) << status;

  // A run extended from 10 to 12 epochs is still the run the 10-epoch command started.
  TrainConfig extended = saved;
  extended.set_epochs(12);
  ScheduleChange* change = extended.add_schedule_changes();
  change->set_at_step(50);
  change->set_epochs_before(10);
  change->set_epochs_after(12);
  EXPECT_TRUE(CheckSameRun(extended, Resolved({})).ok());
  status = CheckSameRun(extended, Resolved({"epochs=12"}));
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << "epochs change only by --extend_epochs";
  EXPECT_NE(status.message().find("--extend_epochs"), std::string::npos) << status;
}

}  // namespace
}  // namespace forge
