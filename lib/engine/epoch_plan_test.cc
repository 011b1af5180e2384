#include "lib/engine/epoch_plan.h"

#include <gtest/gtest.h>

#include "lib/engine/config.h"
#include "lib/engine/input.h"
#include "lib/train/schedule.h"

namespace forge {
namespace {

TrainConfig Config(const std::vector<std::string>& overrides) {
  std::vector<std::string> all = {"data.batch_size=8", "epochs=3", "optimizer.sgd={}", "schedule.constant={}",
                                  "schedule.peak_lr=0.1"};
  all.insert(all.end(), overrides.begin(), overrides.end());
  absl::StatusOr<TrainConfig> config = LoadConfig("", all);
  EXPECT_TRUE(config.ok()) << config.status();
  return *config;
}

TEST(TrainImageSizeTest, RampsAsFfcvRoundingToTheStepHalvesToEven) {
  // FFCV's ResNet-50 ramp (0-based start_ramp 11, end_ramp 13): 160 px through epoch 12, 192 from 14.
  TrainConfig config = Config({"epochs=16",
                               "data.progressive_resizing={start_size: 160 end_size: 192 start_epoch: 12 "
                               "end_epoch: 14}"});
  EXPECT_EQ(TrainImageSize(config, 1), 160);
  EXPECT_EQ(TrainImageSize(config, 12), 160);
  EXPECT_EQ(TrainImageSize(config, 13), 192);  // 176 / 32 = 5.5 rounds to 6
  EXPECT_EQ(TrainImageSize(config, 14), 192);
  EXPECT_EQ(TrainImageSize(config, 16), 192);
  config = Config({"data.progressive_resizing={start_size: 128 end_size: 160 start_epoch: 1 end_epoch: 3}"});
  EXPECT_EQ(TrainImageSize(config, 2), 128);  // 144 / 32 = 4.5 rounds to 4
  config = Config({"data.progressive_resizing={start_size: 128 end_size: 320 start_epoch: 1 end_epoch: 7}"});
  for (int epoch = 1; epoch <= 7; ++epoch) EXPECT_EQ(TrainImageSize(config, epoch), 128 + 32 * (epoch - 1));
  // Without it, data.image_size.
  EXPECT_EQ(TrainImageSize(Config({"data.image_size=176"}), 2), 176);
}

TEST(TrainImageSizeTest, BadRampsAreRefusedNamingTheField) {
  for (const char* ramp : {"{start_size: 100 end_size: 192 start_epoch: 1 end_epoch: 2}",
                           "{start_size: 192 end_size: 160 start_epoch: 1 end_epoch: 2}",
                           "{start_size: 160 end_size: 192 start_epoch: 2 end_epoch: 2}",
                           "{start_size: 160 end_size: 192 start_epoch: 0 end_epoch: 2}",
                           "{start_size: 160 end_size: 192 start_epoch: 1 end_epoch: 2 batch_sizes {size: 192}}"}) {
    absl::StatusOr<TrainConfig> config =
        LoadConfig("", {"data.batch_size=8", "epochs=3", "optimizer.sgd={}", "schedule.constant={}",
                        std::string("data.progressive_resizing=") + ramp});
    ASSERT_FALSE(config.ok()) << ramp;
    EXPECT_NE(config.status().message().find("data.progressive_resizing"), std::string::npos) << config.status();
  }
}

TEST(EpochPlanTest, ABatchPerSizeChangesTheStepsAndScalesTheLr) {
  // 40 images; 32 px at batch 8, 48 px at batch 8, 64 px at batch 4.
  const TrainConfig config = Config({"data.progressive_resizing={start_size: 32 end_size: 64 start_epoch: 1 "
                                     "end_epoch: 3 size_step: 16 batch_sizes {size: 64 batch_size: 4}}"});
  EXPECT_EQ(TrainBatchSize(config, 2), 8);
  EXPECT_EQ(TrainBatchSize(config, 3), 4);
  absl::StatusOr<EpochPlan> plan = EpochPlan::Make(config, 40, "train");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->steps_per_epoch(), 5);
  EXPECT_EQ(plan->StepsIn(1), 5);
  EXPECT_EQ(plan->StepsIn(3), 10);
  EXPECT_EQ(plan->FirstStep(3), 10);
  EXPECT_EQ(plan->TotalSteps(), 20);
  EXPECT_EQ(plan->EpochOf(9), 2);
  EXPECT_EQ(plan->EpochOf(10), 3);
  EXPECT_EQ(plan->EpochOf(25), 4);  // an extension continues like the last epoch
  EXPECT_EQ(plan->FirstStep(5), 30);
  // Step 12 is the third of epoch 3's ten: 5 * (2 + 2 / 10) on a schedule of 5 steps per epoch.
  EXPECT_DOUBLE_EQ(plan->SchedulePosition(7), 7);
  EXPECT_DOUBLE_EQ(plan->SchedulePosition(12), 11);
  absl::StatusOr<std::unique_ptr<LrSchedule>> schedule = MakeRunSchedule(config, 0.1, plan->steps_per_epoch());
  ASSERT_TRUE(schedule.ok());
  EXPECT_DOUBLE_EQ(plan->LrAt(**schedule, 9), 0.1);
  EXPECT_DOUBLE_EQ(plan->LrAt(**schedule, 10), 0.05);  // batch 4 of 8: half the LR
  // A batch larger than the data.
  const TrainConfig huge = Config({"data.progressive_resizing={start_size: 32 end_size: 64 start_epoch: 1 "
                                   "end_epoch: 3 size_step: 16 batch_sizes {size: 64 batch_size: 64}}"});
  absl::StatusOr<EpochPlan> refused = EpochPlan::Make(huge, 40, "train.manifest");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("train.manifest has 40 images, fewer than one batch of 64"),
            std::string::npos)
      << refused.status();
}

TEST(EpochPlanTest, WithoutBatchSizesAStepIsItsOwnPosition) {
  absl::StatusOr<EpochPlan> plan = EpochPlan::Make(Config({}), 41, "train");
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->TotalSteps(), 15);
  for (int64_t step : {0, 4, 5, 14, 20}) EXPECT_EQ(plan->SchedulePosition(step), step);
}

}  // namespace
}  // namespace forge
