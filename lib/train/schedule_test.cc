// Schedules against PyTorch's schedulers (goldens from testdata/make_schedule_golden.py, compared
// to 1e-12 relative), plus the peak-LR rule, clamping outside the run and config errors.
#include "lib/train/schedule.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "absl/strings/match.h"
#include "lib/train/golden_file.h"

namespace forge {
namespace {

using ::forge::train_testing::JoinFrom;
using ::forge::train_testing::ParseDouble;
using ::forge::train_testing::ReadGoldenLines;

ScheduleConfig Parse(const std::string& text) {
  ScheduleConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config)) << text;
  return config;
}

std::unique_ptr<LrSchedule> Make(const std::string& text, double peak, int64_t total, int64_t steps_per_epoch) {
  absl::StatusOr<std::unique_ptr<LrSchedule>> schedule = MakeSchedule(Parse(text), peak, total, steps_per_epoch);
  EXPECT_TRUE(schedule.ok()) << schedule.status();
  return schedule.ok() ? std::move(*schedule) : nullptr;
}

TEST(ScheduleTest, MatchesPyTorchGoldens) {
  constexpr double kRelativeTolerance = 1e-12;
  std::map<std::string, std::unique_ptr<LrSchedule>> schedules;
  std::map<std::string, int> compared;
  for (const std::vector<std::string>& line : ReadGoldenLines("schedule_golden.txt")) {
    ASSERT_GE(line.size(), 3u);
    if (line[0] == "config") {
      ASSERT_GE(line.size(), 6u);
      // config <name> <peak> <total_steps> <steps_per_epoch> <ScheduleConfig text>
      std::unique_ptr<LrSchedule> schedule =
          Make(JoinFrom(line, 5), ParseDouble(line[2]), static_cast<int64_t>(ParseDouble(line[3])),
               static_cast<int64_t>(ParseDouble(line[4])));
      ASSERT_NE(schedule, nullptr) << line[1];
      schedules[line[1]] = std::move(schedule);
      continue;
    }
    auto it = schedules.find(line[0]);
    ASSERT_NE(it, schedules.end()) << "no config line before " << line[0];
    const int64_t step = static_cast<int64_t>(ParseDouble(line[1]));
    const double expected = ParseDouble(line[2]);
    const double actual = it->second->LrAt(step);
    EXPECT_LE(std::abs(actual - expected), kRelativeTolerance * std::abs(expected))
        << line[0] << " step " << step << ": " << actual << " vs PyTorch " << expected;
    const std::optional<double> momentum = it->second->MomentumAt(step);
    if (line.size() >= 4) {  // the cycled momentum
      const double expected_momentum = ParseDouble(line[3]);
      ASSERT_TRUE(momentum.has_value()) << line[0];
      EXPECT_LE(std::abs(*momentum - expected_momentum), kRelativeTolerance * expected_momentum)
          << line[0] << " step " << step << ": momentum " << *momentum << " vs PyTorch " << expected_momentum;
    } else {
      EXPECT_FALSE(momentum.has_value()) << line[0] << " cycles no momentum";
    }
    ++compared[line[0]];
  }
  // Every kind, and every case with its steps.
  EXPECT_EQ(schedules.size(), 18u);
  EXPECT_EQ(compared.size(), schedules.size());
  EXPECT_EQ(compared["one_cycle_default"], 100);
  EXPECT_EQ(compared["constant"], 10);
}

TEST(ScheduleTest, OneCyclePhaseBoundaries) {
  // T = 100, pct_start = 0.25: warmup ends at PyTorch's end_step = 24.0 exactly, at the peak.
  std::unique_ptr<LrSchedule> s =
      Make("one_cycle { pct_start: 0.25 div_factor: 25 final_div_factor: 1e4 }", 0.4, 100, 10);
  ASSERT_NE(s, nullptr);
  EXPECT_NEAR(s->LrAt(0), 0.4 / 25, 1e-15);
  EXPECT_DOUBLE_EQ(s->LrAt(24), 0.4);
  EXPECT_LT(s->LrAt(23), 0.4);
  EXPECT_LT(s->LrAt(25), 0.4);
  EXPECT_NEAR(s->LrAt(99), 0.4 / 25 / 1e4, 1e-18);
}

TEST(ScheduleTest, OneCycleZeroLengthWarmupUsesThePeak) {
  // pct_start * T - 1 == 0: PyTorch divides 0 by 0 at step 0; the phase's end LR is used.
  std::unique_ptr<LrSchedule> s =
      Make("one_cycle { pct_start: 0.25 div_factor: 25 final_div_factor: 1e4 }", 1.0, 4, 4);
  ASSERT_NE(s, nullptr);
  EXPECT_DOUBLE_EQ(s->LrAt(0), 1.0);
  EXPECT_NEAR(s->LrAt(3), 1.0 / 25 / 1e4, 1e-18);
  for (int64_t step = 0; step < 4; ++step) EXPECT_TRUE(std::isfinite(s->LrAt(step)));
}

TEST(ScheduleTest, CosineWarmupFromZero) {
  // warmup_start_factor 0 (LinearLR refuses it; the closed form starts at LR 0).
  std::unique_ptr<LrSchedule> s = Make("cosine { warmup_epochs: 1 final_lr: 0.01 }", 0.8, 40, 4);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->LrAt(0), 0.0);
  EXPECT_DOUBLE_EQ(s->LrAt(1), 0.2);
  EXPECT_DOUBLE_EQ(s->LrAt(3), 0.6);
  EXPECT_DOUBLE_EQ(s->LrAt(4), 0.8);
  EXPECT_DOUBLE_EQ(s->LrAt(22), 0.01 + (0.8 - 0.01) / 2);  // halfway through the 36 cosine steps
}

TEST(ScheduleTest, StepAndMultistepByHand) {
  std::unique_ptr<LrSchedule> step = Make("step { step_epochs: 2 gamma: 0.1 }", 1.0, 30, 5);
  ASSERT_NE(step, nullptr);
  EXPECT_EQ(step->LrAt(9), 1.0);
  EXPECT_DOUBLE_EQ(step->LrAt(10), 0.1);
  EXPECT_DOUBLE_EQ(step->LrAt(29), 0.1 * 0.1);
  std::unique_ptr<LrSchedule> multi =
      Make("multistep { milestones_epochs: [3, 1] gamma: 0.5 }", 1.0, 30, 5);
  ASSERT_NE(multi, nullptr);
  EXPECT_EQ(multi->LrAt(4), 1.0);
  EXPECT_EQ(multi->LrAt(5), 0.5);
  EXPECT_EQ(multi->LrAt(14), 0.5);
  EXPECT_EQ(multi->LrAt(15), 0.25);
}

TEST(ScheduleTest, ClampsOutsideTheRun) {
  for (const char* text : {"one_cycle { pct_start: 0.3 div_factor: 25 final_div_factor: 1e4 }",
                           "cosine { warmup_epochs: 1 warmup_start_factor: 0.1 }", "linear { warmup_epochs: 1 }",
                           "step { step_epochs: 1 gamma: 0.1 }"}) {
    std::unique_ptr<LrSchedule> s = Make(text, 0.5, 20, 5);
    ASSERT_NE(s, nullptr) << text;
    EXPECT_EQ(s->LrAt(-3), s->LrAt(0)) << text;
    EXPECT_EQ(s->LrAt(20), s->LrAt(19)) << text;
    EXPECT_EQ(s->LrAt(1000000), s->LrAt(19)) << text;
  }
}

TEST(ScheduleTest, PeakLrIsTheConfiguredOneOrTheLinearScalingRule) {
  EXPECT_EQ(PeakLr(Parse("peak_lr: 0.3 base_lr: 0.2"), 1024), 0.3);
  EXPECT_DOUBLE_EQ(PeakLr(Parse("base_lr: 0.2"), 1024), 0.8);
  EXPECT_DOUBLE_EQ(PeakLr(Parse(""), 512), 0.2);  // base_lr 0 means 0.1
  EXPECT_DOUBLE_EQ(PeakLr(Parse("one_cycle {}"), 32), 0.0125);
}

TEST(ScheduleTest, RefusesBadConfigNamingTheField) {
  struct Case {
    const char* text;
    double peak;
    int64_t total;
    const char* field;
  };
  const Case cases[] = {
      {"", 0.1, 10, "no kind"},
      {"constant {}", 0.0, 10, "peak_lr"},
      {"constant {}", 0.1, 0, "total steps"},
      {"one_cycle { pct_start: 1.5 div_factor: 25 final_div_factor: 1e4 }", 0.1, 10, "one_cycle.pct_start"},
      {"one_cycle { pct_start: 0.3 final_div_factor: 1e4 }", 0.1, 10, "one_cycle.div_factor"},
      {"one_cycle { pct_start: 0.3 div_factor: 25 }", 0.1, 10, "one_cycle.final_div_factor"},
      {"cosine { warmup_epochs: 2 }", 0.1, 10, "cosine.warmup_epochs"},  // 10 warmup steps of 10
      {"cosine { warmup_epochs: -1 }", 0.1, 10, "cosine.warmup_epochs"},
      {"cosine { warmup_start_factor: 2 }", 0.1, 10, "cosine.warmup_start_factor"},
      {"cosine { final_lr: -1 }", 0.1, 10, "cosine.final_lr"},
      {"step { step_epochs: 0.05 gamma: 0.1 }", 0.1, 10, "step.step_epochs"},  // rounds to 0 steps
      {"step { step_epochs: 1 }", 0.1, 10, "step.gamma"},
      {"multistep { milestones_epochs: [1, -2] gamma: 0.1 }", 0.1, 10, "multistep.milestones_epochs[1]"},
      {"multistep { milestones_epochs: 1 }", 0.1, 10, "multistep.gamma"},
      {"linear { warmup_epochs: 3 }", 0.1, 10, "linear.warmup_epochs"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::unique_ptr<LrSchedule>> s = MakeSchedule(Parse(c.text), c.peak, c.total, 5);
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_TRUE(absl::IsInvalidArgument(s.status())) << s.status();
    EXPECT_TRUE(absl::StrContains(s.status().message(), c.field)) << s.status() << " does not name " << c.field;
  }
}


// Run schedules: config.schedule over the first epochs, then extensions and freezes.
TrainConfig RunConfig(const std::string& schedule, int epochs, const std::string& changes = "") {
  TrainConfig config;
  const std::string text = "schedule { " + schedule + " } epochs: " + std::to_string(epochs) + " " + changes;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config)) << text;
  return config;
}

std::unique_ptr<LrSchedule> MakeRun(const TrainConfig& config, int64_t steps_per_epoch) {
  absl::StatusOr<std::unique_ptr<LrSchedule>> schedule = MakeRunSchedule(config, 0.4, steps_per_epoch);
  EXPECT_TRUE(schedule.ok()) << schedule.status();
  return schedule.ok() ? std::move(*schedule) : nullptr;
}

TEST(RunScheduleTest, WithoutChangesIsTheConfiguredSchedule) {
  const auto run = MakeRun(RunConfig("one_cycle { pct_start: 0.3 div_factor: 25 final_div_factor: 1e4 }", 10), 7);
  const auto base = Make("one_cycle { pct_start: 0.3 div_factor: 25 final_div_factor: 1e4 }", 0.4, 70, 7);
  for (int64_t step = 0; step < 80; ++step) EXPECT_EQ(run->LrAt(step), base->LrAt(step)) << step;
}

// A cycled momentum follows the LR's curve position: re-laid by an extension, held by a freeze.
TEST(RunScheduleTest, CycledMomentumFollowsExtensionsAndFreezes) {
  const std::string cycle =
      "one_cycle { pct_start: 0.3 div_factor: 25 final_div_factor: 1e4 cycle_momentum: true base_momentum: 0.85 "
      "max_momentum: 0.95 }";
  const auto base = Make(cycle, 0.4, 70, 7);
  const auto extended = MakeRun(RunConfig(cycle, 20, "schedule_changes { at_step: 35 epochs_before: 10 epochs_after: 20 }"), 7);
  for (int64_t step = 0; step <= 35; ++step) EXPECT_EQ(extended->MomentumAt(step), base->MomentumAt(step)) << step;
  EXPECT_NEAR(*extended->MomentumAt(139), *base->MomentumAt(69), 1e-12) << "the cycle's end at the new last step";
  const auto frozen = MakeRun(RunConfig(cycle, 10, "schedule_changes { at_step: 30 epochs_before: 10 epochs_after: 10 "
                                                   "freeze: true frozen_lr: 0.01 }"), 7);
  for (int64_t step = 30; step < 80; ++step) EXPECT_EQ(frozen->MomentumAt(step), base->MomentumAt(30)) << step;
  EXPECT_FALSE(Make("one_cycle { pct_start: 0.3 div_factor: 25 final_div_factor: 1e4 }", 0.4, 70, 7)->MomentumAt(3))
      << "unset cycle_momentum: not cycled";
  EXPECT_FALSE(Make("constant {}", 0.4, 70, 7)->MomentumAt(3));
}

TEST(RunScheduleTest, ExtendingAFinishedRunContinuesAtItsFinalLr) {
  // 10 epochs of 10 steps, finished at step 100, extended to 15 epochs.
  const std::string cosine = "cosine { warmup_epochs: 2 warmup_start_factor: 0.1 }";
  const auto run = MakeRun(RunConfig(cosine, 15, "schedule_changes { at_step: 100 epochs_before: 10 epochs_after: 15 }"), 10);
  const auto base = Make(cosine, 0.4, 100, 10);
  for (int64_t step = 0; step < 100; ++step) EXPECT_EQ(run->LrAt(step), base->LrAt(step)) << step;
  for (int64_t step = 100; step < 160; ++step) EXPECT_EQ(run->LrAt(step), base->LrAt(99)) << step;
}

TEST(RunScheduleTest, ExtendingMidRunStretchesTheRestWithoutAJump) {
  // Extended at step 40 of 100 to 150 steps: step 40 + k samples the curve at 40 + k * 59 / 109.
  const std::string cosine = "cosine { final_lr: 0.001 }";
  const auto run = MakeRun(RunConfig(cosine, 15, "schedule_changes { at_step: 40 epochs_before: 10 epochs_after: 15 }"), 10);
  const auto base = Make(cosine, 0.4, 100, 10);
  for (int64_t step = 0; step <= 40; ++step) EXPECT_EQ(run->LrAt(step), base->LrAt(step)) << step;
  EXPECT_NEAR(run->LrAt(149), base->LrAt(99), 1e-15);
  for (int64_t k = 0; k < 110; ++k) {
    EXPECT_NEAR(run->LrAt(40 + k), base->LrAtPosition(40 + k * 59.0 / 109.0), 1e-15) << k;
    if (k > 0) EXPECT_LT(run->LrAt(40 + k), run->LrAt(40 + k - 1)) << k;  // still decaying, smoothly
  }
  // The largest step-to-step change after the extension is no larger than before it.
  double largest_before = 0, largest_after = 0;
  for (int64_t step = 1; step < 150; ++step) {
    const double change = std::abs(run->LrAt(step) - run->LrAt(step - 1));
    (step <= 40 ? largest_before : largest_after) = std::max(step <= 40 ? largest_before : largest_after, change);
  }
  EXPECT_LE(largest_after, largest_before);
}

TEST(RunScheduleTest, ExtendingTwiceKeepsEveryEarlierStep) {
  const std::string one_cycle = "one_cycle { pct_start: 0.25 div_factor: 25 final_div_factor: 1e4 }";
  const TrainConfig once = RunConfig(one_cycle, 12, "schedule_changes { at_step: 50 epochs_before: 10 epochs_after: 12 }");
  const TrainConfig twice = RunConfig(one_cycle, 20,
                                      "schedule_changes { at_step: 50 epochs_before: 10 epochs_after: 12 } "
                                      "schedule_changes { at_step: 90 epochs_before: 12 epochs_after: 20 }");
  const auto run_once = MakeRun(once, 10);
  const auto run_twice = MakeRun(twice, 10);
  const auto base = Make(one_cycle, 0.4, 100, 10);
  for (int64_t step = 0; step <= 90; ++step) EXPECT_EQ(run_twice->LrAt(step), run_once->LrAt(step)) << step;
  EXPECT_NEAR(run_twice->LrAt(199), base->LrAt(99), 1e-15);
  for (int64_t step = 91; step < 200; ++step) EXPECT_LE(run_twice->LrAt(step), run_twice->LrAt(step - 1)) << step;
}

TEST(RunScheduleTest, FreezingHoldsTheLrFromItsStep) {
  const std::string step_kind = "step { step_epochs: 3 gamma: 0.1 }";
  const auto run = MakeRun(
      RunConfig(step_kind, 10, "schedule_changes { at_step: 25 epochs_before: 10 epochs_after: 10 freeze: true frozen_lr: 0.04 }"),
      10);
  const auto base = Make(step_kind, 0.4, 100, 10);
  for (int64_t step = 0; step < 25; ++step) EXPECT_EQ(run->LrAt(step), base->LrAt(step)) << step;
  for (int64_t step = 25; step < 120; ++step) EXPECT_EQ(run->LrAt(step), 0.04) << step;
}

TEST(RunScheduleTest, ExtendAndFreezeTogetherThenUnfrozenValueChanges) {
  const std::string constant = "constant {}";
  const auto run = MakeRun(RunConfig(constant, 30,
                                     "schedule_changes { at_step: 100 epochs_before: 10 epochs_after: 20 freeze: true frozen_lr: 0.01 } "
                                     "schedule_changes { at_step: 150 epochs_before: 20 epochs_after: 30 freeze: true frozen_lr: 0.002 }"),
                           10);
  EXPECT_EQ(run->LrAt(99), 0.4);
  EXPECT_EQ(run->LrAt(100), 0.01);
  EXPECT_EQ(run->LrAt(149), 0.01);
  EXPECT_EQ(run->LrAt(150), 0.002);
  EXPECT_EQ(run->LrAt(299), 0.002);
}

TEST(RunScheduleTest, RefusesInconsistentChanges) {
  const std::string constant = "constant {}";
  for (const std::string& changes :
       {std::string("schedule_changes { at_step: 50 epochs_before: 10 epochs_after: 11 }"),
        std::string("schedule_changes { at_step: 50 epochs_before: 10 epochs_after: 8 }"),
        std::string("schedule_changes { at_step: 50 epochs_before: 10 epochs_after: 11 } "
                    "schedule_changes { at_step: 40 epochs_before: 11 epochs_after: 12 }"),
        std::string("schedule_changes { at_step: 50 epochs_before: 10 epochs_after: 12 freeze: true }")}) {
    TrainConfig config = RunConfig(constant, 12, changes);
    EXPECT_EQ(MakeRunSchedule(config, 0.4, 10).status().code(), absl::StatusCode::kInvalidArgument) << changes;
  }
}

}  // namespace
}  // namespace forge
