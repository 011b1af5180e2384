#include "lib/engine/config.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "lib/io/proto_file.h"
#include "testdata/scratch.h"

namespace forge {
namespace {

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

TEST(ConfigTest, ARunSavedBeforeMomentumCyclingContinuesWithItsFixedMomentum) {
  TrainConfig saved = Resolved({"schedule.one_cycle={}"});
  ASSERT_TRUE(saved.schedule().one_cycle().cycle_momentum()) << "new runs cycle it";
  saved.mutable_schedule()->mutable_one_cycle()->clear_cycle_momentum();  // as an older run saved it
  saved.mutable_schedule()->mutable_one_cycle()->clear_base_momentum();
  saved.mutable_schedule()->mutable_one_cycle()->clear_max_momentum();
  const TrainConfig given = Resolved({"schedule.one_cycle={}"});
  EXPECT_TRUE(CheckSameRun(saved, given).ok());
  EXPECT_FALSE(ContinueRunWith(saved, given).schedule().one_cycle().has_cycle_momentum());
  // A run that has the field is compared on it.
  EXPECT_FALSE(CheckSameRun(given, Resolved({"schedule.one_cycle={cycle_momentum: false}"})).ok());
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

TEST(ConfigTest, ExplicitZerosSurviveResolution) {
  const TrainConfig sgd = Resolved({"optimizer.sgd.momentum=0", "checkpoint.every_minutes=0"});
  EXPECT_TRUE(sgd.optimizer().sgd().has_momentum());
  EXPECT_EQ(sgd.optimizer().sgd().momentum(), 0.0) << "plain SGD";
  EXPECT_EQ(sgd.checkpoint().every_minutes(), 0.0) << "no timed checkpoints";
  EXPECT_DOUBLE_EQ(Resolved({}).optimizer().sgd().momentum(), 0.9) << "unset: the default";

  absl::StatusOr<TrainConfig> adamw = LoadConfig(
      "", {"data.batch_size=8", "epochs=1", "optimizer.adamw.beta1=0", "schedule.constant={}"});
  ASSERT_TRUE(adamw.ok()) << adamw.status();
  EXPECT_EQ(adamw->optimizer().adamw().beta1(), 0.0);
  EXPECT_DOUBLE_EQ(adamw->optimizer().adamw().beta2(), 0.999);

  // The zero is written to config.txtpb and read back as set.
  const std::string path = testdata::NewScratchDir() + "/config.txtpb";
  ASSERT_TRUE(WriteProtoFile(path, sgd).ok());
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_NE(text.str().find("momentum: 0"), std::string::npos) << text.str();
  TrainConfig reread;
  ASSERT_TRUE(ReadProtoFile(path, &reread).ok());
  absl::StatusOr<TrainConfig> resolved_again = ResolveConfig(reread);
  ASSERT_TRUE(resolved_again.ok()) << resolved_again.status();
  EXPECT_EQ(resolved_again->optimizer().sgd().momentum(), 0.0);
  EXPECT_TRUE(CheckSameRun(sgd, *resolved_again).ok());
  EXPECT_FALSE(CheckSameRun(sgd, Resolved({})).ok()) << "momentum 0 and the default 0.9 are other runs";
}

TEST(ConfigTest, ExplicitValuesOutsideTheirRangeAreRefused) {
  for (const char* bad : {"data.prefetch_batches=0", "log_every_steps=0", "eval_every_epochs=0", "data.image_size=0",
                          "data.min_scale=0", "grad_accumulation=0", "schedule.base_lr=0"}) {
    absl::StatusOr<TrainConfig> config =
        LoadConfig("", {"data.batch_size=8", "epochs=1", "optimizer.sgd.momentum=0.9", "schedule.constant={}", bad});
    EXPECT_TRUE(absl::IsInvalidArgument(config.status())) << bad;
  }
}

TEST(ConfigTest, AnOverrideReplacesTheFieldItNames) {
  TrainConfig config;
  ASSERT_TRUE(ApplyOverrides({"schedule.multistep.milestones_epochs=[30,60,80]", "schedule.multistep.gamma=0.2"},
                             &config)
                  .ok());
  ASSERT_TRUE(ApplyOverrides({"schedule.multistep.milestones_epochs=[10,20]"}, &config).ok());
  EXPECT_EQ(std::vector<double>(config.schedule().multistep().milestones_epochs().begin(),
                                config.schedule().multistep().milestones_epochs().end()),
            (std::vector<double>{10, 20}));
  EXPECT_DOUBLE_EQ(config.schedule().multistep().gamma(), 0.2) << "a sibling field stays";

  // A message named whole is replaced whole: momentum goes back to unset (then the default).
  ASSERT_TRUE(ApplyOverrides({"optimizer.sgd.momentum=0.5", "optimizer.sgd={nesterov: true}"}, &config).ok());
  EXPECT_FALSE(config.optimizer().sgd().has_momentum());
  EXPECT_TRUE(config.optimizer().sgd().nesterov());

  // A field inside a repeated message cannot be named: which element would it be?
  config.add_schedule_changes()->set_at_step(3);
  absl::Status status = ApplyOverrides({"schedule_changes.at_step=4"}, &config);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
}

}  // namespace
}  // namespace forge
