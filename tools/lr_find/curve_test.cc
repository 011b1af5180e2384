#include "tools/lr_find/curve.h"

#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace forge {
namespace {

LrFindSettings Settings(double start, double end, int num_iter, const std::string& mode = "exponential") {
  LrFindSettings settings;
  settings.set_start_lr(start);
  settings.set_end_lr(end);
  settings.set_num_iter(num_iter);
  settings.set_mode(mode);
  settings.set_smoothing(0.05);
  settings.set_diverge_factor(5);
  return settings;
}

// Runs a whole range test whose step at `lr` has loss `loss(step, lr)`.
LrCurve RunTest(const LrFindSettings& settings, const std::function<double(int64_t, double)>& loss) {
  LrRangeTest test(settings);
  while (test.Add(loss(test.step(), test.lr()))) {
  }
  return test.Finish();
}

// A typical range test in log10(lr): flat at 2.3, a sigmoid fall of 1.3 centred at 10^-2.5,
// then a rise that diverges past 10^-0.5.
double TypicalLoss(double lr) {
  const double x = std::log10(lr);
  double loss = 1.0 + 1.3 / (1 + std::exp((x + 2.5) / 0.3));
  if (x > -0.5) loss += 3 * (x + 0.5) * (x + 0.5);
  return loss;
}

int IndexOf(const LrCurve& curve, double lr) {
  for (int i = 0; i < curve.points_size(); ++i) {
    if (curve.points(i).lr() == lr) return i;
  }
  return -1;
}

TEST(ValidateLrFindSettingsTest, NamesTheFlag) {
  EXPECT_TRUE(ValidateLrFindSettings(Settings(1e-7, 10, 100)).ok());
  EXPECT_TRUE(ValidateLrFindSettings(Settings(1e-3, 1, 2, "linear")).ok());
  const std::vector<std::pair<std::function<void(LrFindSettings*)>, std::string>> cases = {
      {[](LrFindSettings* s) { s->set_start_lr(0); }, "--start_lr"},
      {[](LrFindSettings* s) { s->set_start_lr(NAN); }, "--start_lr"},
      {[](LrFindSettings* s) { s->set_end_lr(1e-8); }, "--end_lr"},
      {[](LrFindSettings* s) { s->set_end_lr(INFINITY); }, "--end_lr"},
      {[](LrFindSettings* s) { s->set_num_iter(1); }, "--num_iter"},
      {[](LrFindSettings* s) { s->set_mode("cosine"); }, "--mode"},
      {[](LrFindSettings* s) { s->set_smoothing(0); }, "--smoothing"},
      {[](LrFindSettings* s) { s->set_smoothing(1.5); }, "--smoothing"},
      {[](LrFindSettings* s) { s->set_diverge_factor(1); }, "--diverge_factor"},
      {[](LrFindSettings* s) { s->set_batch_size(-1); }, "--batch_size"},
  };
  for (const auto& [mutate, flag] : cases) {
    LrFindSettings settings = Settings(1e-7, 10, 100);
    mutate(&settings);
    const absl::Status status = ValidateLrFindSettings(settings);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << flag;
    EXPECT_NE(status.message().find(flag), std::string::npos) << status;
  }
}

TEST(LrAtIterationTest, ExponentialIsEvenInLogLr) {
  const LrFindSettings settings = Settings(1e-4, 1, 5);
  const double expected[] = {1e-4, 1e-3, 1e-2, 1e-1, 1};
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(LrAtIteration(settings, i), expected[i], expected[i] * 1e-12) << i;
  const LrFindSettings wide = Settings(1e-7, 10, 100);
  EXPECT_DOUBLE_EQ(LrAtIteration(wide, 0), 1e-7);
  EXPECT_NEAR(LrAtIteration(wide, 99), 10, 1e-11);
  EXPECT_NEAR(LrAtIteration(wide, 33), 1e-7 * std::pow(1e8, 33.0 / 99), 1e-18);
}

TEST(LrAtIterationTest, LinearIsEvenInLr) {
  const LrFindSettings settings = Settings(0.1, 0.5, 5, "linear");
  const double expected[] = {0.1, 0.2, 0.3, 0.4, 0.5};
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(LrAtIteration(settings, i), expected[i], 1e-15) << i;
}

TEST(SmoothedLossTest, BiasCorrectedMovingAverage) {
  SmoothedLoss smoothed(0.05);
  // avg = 0.115; 0.115 / 0.05
  EXPECT_NEAR(smoothed.Add(2.3), 2.3, 1e-12);
  // avg = 0.95 * 0.115 + 0.05 * 2.1 = 0.21425; 0.21425 / (1 - 0.95^2) = 0.21425 / 0.0975
  EXPECT_NEAR(smoothed.Add(2.1), 0.21425 / 0.0975, 1e-12);
  // avg = 0.95 * 0.21425 + 0.05 * 2.5 = 0.3285375; / (1 - 0.95^3) = / 0.142625
  EXPECT_NEAR(smoothed.Add(2.5), 0.3285375 / 0.142625, 1e-12);
  EXPECT_EQ(smoothed.count(), 3);
  EXPECT_NEAR(smoothed.value(), 2.3035056967572, 1e-12);
}

TEST(SmoothedLossTest, ConstantStaysConstantAndWeightOneIsRaw) {
  SmoothedLoss constant(0.05);
  for (int i = 0; i < 500; ++i) EXPECT_NEAR(constant.Add(1.7), 1.7, 1e-12) << i;
  SmoothedLoss raw(1.0);
  for (double loss : {3.0, 1.0, 4.0}) EXPECT_DOUBLE_EQ(raw.Add(loss), loss);
}

TEST(LrRangeTestTest, RecordsEveryStepWithoutDivergence) {
  const LrFindSettings settings = Settings(1e-4, 1, 20);
  const LrCurve curve = RunTest(settings, [](int64_t, double lr) { return 2.0 - 0.1 * std::log10(lr); });
  ASSERT_EQ(curve.points_size(), 20);
  EXPECT_FALSE(curve.diverged());
  SmoothedLoss smoothed(0.05);
  for (int i = 0; i < 20; ++i) {
    const LrPoint& point = curve.points(i);
    EXPECT_EQ(point.step(), i);
    EXPECT_DOUBLE_EQ(point.lr(), LrAtIteration(settings, i));
    EXPECT_DOUBLE_EQ(point.loss(), 2.0 - 0.1 * std::log10(point.lr()));
    EXPECT_DOUBLE_EQ(point.smoothed_loss(), smoothed.Add(point.loss()));
  }
  EXPECT_EQ(curve.settings().num_iter(), 20);
  EXPECT_EQ(curve.settings().mode(), "exponential");
}

TEST(LrRangeTestTest, StopsWhenTheSmoothedLossExceedsFiveTimesItsBest) {
  // Ten steps at 1, then 100: the smoothed loss after the first 100 is
  // (0.05 * 100 + 0.95 * (1 - 0.95^10)) / (1 - 0.95^11) = 12.48 > 5.
  const LrCurve curve = RunTest(Settings(1e-4, 1, 100), [](int64_t step, double) { return step < 10 ? 1.0 : 100.0; });
  EXPECT_TRUE(curve.diverged());
  ASSERT_EQ(curve.points_size(), 11) << "the diverging point is recorded, nothing after it";
  EXPECT_NEAR(curve.points(10).smoothed_loss(), 12.4795942933588, 1e-9);
}

TEST(LrRangeTestTest, SmallerJumpDoesNotDiverge) {
  // 3x the best loss, held, never brings the smoothed loss above 5x.
  const LrCurve curve = RunTest(Settings(1e-4, 1, 60), [](int64_t step, double) { return step < 10 ? 1.0 : 3.0; });
  EXPECT_FALSE(curve.diverged());
  EXPECT_EQ(curve.points_size(), 60);
}

TEST(LrRangeTestTest, NonFiniteLossDivergesAndIsNotRecorded) {
  LrRangeTest test(Settings(1e-4, 1, 100));
  EXPECT_TRUE(test.Add(2.3));
  EXPECT_TRUE(test.Add(2.2));
  EXPECT_FALSE(test.Add(NAN));
  EXPECT_TRUE(test.done());
  EXPECT_FALSE(test.Add(2.0)) << "no steps after the end";
  const LrCurve curve = test.Finish();
  EXPECT_TRUE(curve.diverged());
  EXPECT_EQ(curve.points_size(), 2);
}

TEST(LeastSquaresSlopeTest, ExactOnALine) {
  const std::vector<double> x = {0, 1, 3, 4, 7};
  std::vector<double> y;
  for (double v : x) y.push_back(2 - 0.5 * v);
  EXPECT_NEAR(LeastSquaresSlope(x, y, 0, 4), -0.5, 1e-12);
  EXPECT_NEAR(LeastSquaresSlope(x, y, 1, 3), -0.5, 1e-12);
  EXPECT_EQ(LeastSquaresSlope({1, 1}, {0, 5}, 0, 1), 0);
}

TEST(RemoveSpikesTest, ReplacesIsolatedSpikesAndKeepsTrends) {
  std::vector<double> losses;
  for (int i = 0; i < 40; ++i) losses.push_back(3.0 - 0.05 * i);
  int spikes = -1;
  EXPECT_EQ(RemoveSpikes(losses, &spikes), losses) << "a steady fall is not a spike";
  EXPECT_EQ(spikes, 0);
  std::vector<double> spiky = losses;
  spiky[12] += 4;
  spiky[25] -= 2;  // a steady fall of 0.05 per step needs more than 1.1 to stand out
  spiky[2] += 4;  // in the shifted window of the first points
  const std::vector<double> cleaned = RemoveSpikes(spiky, &spikes);
  EXPECT_EQ(spikes, 3);
  // The window's median with one outlier in it: the line's value one step away.
  EXPECT_NEAR(cleaned[12], losses[12], 0.05 + 1e-12);
  EXPECT_NEAR(cleaned[25], losses[25], 0.05 + 1e-12);
  EXPECT_NEAR(cleaned[2], losses[5], 0.05 + 1e-12) << "the median of losses[0..10]";
  for (int i : {0, 11, 13, 24, 26, 39}) EXPECT_EQ(cleaned[i], losses[i]) << i;
  // On a flat curve a 1% blip is too small to count.
  std::vector<double> blip(40, 2.0);
  blip[20] = 2.02;
  EXPECT_EQ(RemoveSpikes(blip, &spikes), blip);
  EXPECT_EQ(spikes, 0);
  EXPECT_EQ(RemoveSpikes({1, 9, 1}, &spikes), std::vector<double>({1, 9, 1})) << "too short to judge";
}

class SuggestTest : public ::testing::Test {
 protected:
  static LrCurve Clean() { return RunTest(Settings(1e-5, 10, 100), [](int64_t, double lr) { return TypicalLoss(lr); }); }
};

TEST_F(SuggestTest, CleanCurveSuggestsTheSteepestPointOfTheSmoothedLoss) {
  const LrCurve curve = Clean();
  ASSERT_EQ(curve.suggestion_status(), LrCurve::SUGGESTION_OK);
  EXPECT_EQ(curve.spikes_ignored(), 0);
  const int suggested = IndexOf(curve, curve.suggested_lr());
  ASSERT_GE(suggested, 0) << "the suggestion is one of the recorded LRs";
  // The steepest point-to-point fall of the smoothed loss per unit of log-LR (on a clean curve
  // plain differences are trustworthy), within the candidate range [10, minimum].
  int steepest = -1;
  double lowest_slope = 0;
  for (int i = 10; i + 1 < curve.points_size() && curve.points(i + 1).lr() <= curve.min_loss_lr(); ++i) {
    const double slope = (curve.points(i + 1).smoothed_loss() - curve.points(i - 1).smoothed_loss()) /
                         std::log(curve.points(i + 1).lr() / curve.points(i - 1).lr());
    if (slope < lowest_slope) {
      lowest_slope = slope;
      steepest = i;
    }
  }
  EXPECT_NEAR(suggested, steepest, 2);
  // In the fall of the raw curve, at or after its midpoint (the moving average lags), and well
  // before the minimum.
  EXPECT_GE(std::log10(curve.suggested_lr()), -2.6);
  EXPECT_LE(std::log10(curve.suggested_lr()), -1.5);
  EXPECT_LT(curve.suggested_lr(), curve.min_loss_lr());
  EXPECT_LT(curve.points(suggested).smoothed_loss(), curve.points(10).smoothed_loss());
}

TEST_F(SuggestTest, MinLossAndATenthOfIt) {
  const LrCurve curve = Clean();
  int lowest = 10;
  for (int i = 10; i < curve.points_size(); ++i) {
    if (curve.points(i).smoothed_loss() < curve.points(lowest).smoothed_loss()) lowest = i;
  }
  EXPECT_DOUBLE_EQ(curve.min_loss_lr(), curve.points(lowest).lr());
  EXPECT_DOUBLE_EQ(curve.min_loss_lr_div10(), curve.points(lowest).lr() / 10);
  // The raw minimum is at 10^-0.5; the smoothed one lags behind it.
  EXPECT_GE(std::log10(curve.min_loss_lr()), -0.6);
  EXPECT_LE(std::log10(curve.min_loss_lr()), 0.5);
}

TEST_F(SuggestTest, NoiseMovesTheSuggestionLittle) {
  const double clean = std::log10(Clean().suggested_lr());
  for (int seed = 1; seed <= 20; ++seed) {
    std::mt19937 random(seed);
    std::normal_distribution<double> noise(0, 0.08);
    const LrCurve curve =
        RunTest(Settings(1e-5, 10, 100), [&](int64_t, double lr) { return TypicalLoss(lr) + noise(random); });
    ASSERT_EQ(curve.suggestion_status(), LrCurve::SUGGESTION_OK) << seed;
    EXPECT_NEAR(std::log10(curve.suggested_lr()), clean, 0.25) << "seed " << seed;
    EXPECT_LE(curve.suggested_lr(), curve.min_loss_lr()) << seed;
  }
}

TEST_F(SuggestTest, IsolatedSpikesAreIgnored) {
  const LrCurve clean = Clean();
  // Upward spikes before, inside and after the fall, and a downward one before it.
  const std::map<int64_t, double> spikes = {{20, 6.0}, {28, -1.5}, {45, 5.0}, {52, 8.0}, {70, 4.0}};
  const LrCurve curve = RunTest(Settings(1e-5, 10, 100), [&](int64_t step, double lr) {
    auto it = spikes.find(step);
    return TypicalLoss(lr) + (it == spikes.end() ? 0.0 : it->second);
  });
  ASSERT_EQ(curve.suggestion_status(), LrCurve::SUGGESTION_OK);
  EXPECT_EQ(curve.spikes_ignored(), 5);
  EXPECT_NEAR(std::log10(curve.suggested_lr()), std::log10(clean.suggested_lr()), 0.1);
  EXPECT_LT(curve.suggested_lr(), curve.min_loss_lr());
  EXPECT_FALSE(curve.diverged());
  // Plain differences of the recorded smoothed loss, over the same trimmed range, fall for the
  // downward spike a decade and a half early.
  int naive = -1;
  double lowest_slope = 0;
  for (int i = 10; i + 10 < curve.points_size(); ++i) {
    const double slope = (curve.points(i + 1).smoothed_loss() - curve.points(i - 1).smoothed_loss()) /
                         std::log(curve.points(i + 1).lr() / curve.points(i - 1).lr());
    if (slope < lowest_slope) {
      lowest_slope = slope;
      naive = i;
    }
  }
  EXPECT_GT(std::abs(std::log10(curve.points(naive).lr()) - std::log10(clean.suggested_lr())), 1.0);
}

TEST_F(SuggestTest, SpikesAndNoiseTogether) {
  const double clean = std::log10(Clean().suggested_lr());
  for (int seed = 1; seed <= 10; ++seed) {
    std::mt19937 random(seed);
    std::normal_distribution<double> noise(0, 0.05);
    const LrCurve curve = RunTest(Settings(1e-5, 10, 100), [&](int64_t step, double lr) {
      return TypicalLoss(lr) + noise(random) + (step % 17 == 5 ? 4.0 : 0.0);
    });
    ASSERT_EQ(curve.suggestion_status(), LrCurve::SUGGESTION_OK) << seed;
    EXPECT_GE(curve.spikes_ignored(), 5) << seed;
    EXPECT_NEAR(std::log10(curve.suggested_lr()), clean, 0.25) << "seed " << seed;
  }
}

TEST_F(SuggestTest, LinearModeFindsTheSameFall) {
  // Linear steps put most points at high LRs; the fall must still be resolved.
  const LrCurve curve =
      RunTest(Settings(1e-3, 0.3, 100, "linear"), [](int64_t, double lr) { return TypicalLoss(lr * 0.01); });
  ASSERT_EQ(curve.suggestion_status(), LrCurve::SUGGESTION_OK);
  EXPECT_GE(curve.suggested_lr() * 0.01, std::pow(10, -2.6));
  EXPECT_LT(curve.suggested_lr(), curve.min_loss_lr());
}

TEST_F(SuggestTest, TooFewPoints) {
  LrCurve empty;
  Suggest(&empty);
  EXPECT_EQ(empty.suggestion_status(), LrCurve::SUGGESTION_TOO_FEW_POINTS);
  EXPECT_EQ(empty.suggested_lr(), 0);
  EXPECT_EQ(empty.min_loss_lr(), 0);
  // Diverges after 6 points.
  const LrCurve curve = RunTest(Settings(1e-4, 1, 100), [](int64_t step, double) { return step < 5 ? 2.0 - 0.1 * step : 1e3; });
  ASSERT_TRUE(curve.diverged());
  ASSERT_EQ(curve.points_size(), 6);
  EXPECT_EQ(curve.suggestion_status(), LrCurve::SUGGESTION_TOO_FEW_POINTS);
  EXPECT_EQ(curve.suggested_lr(), 0);
  EXPECT_DOUBLE_EQ(curve.min_loss_lr(), curve.points(4).lr());
  EXPECT_DOUBLE_EQ(curve.min_loss_lr_div10(), curve.points(4).lr() / 10);
}

TEST_F(SuggestTest, NoDescent) {
  // Rising from the start: the LR range begins too high.
  const LrCurve rising = RunTest(Settings(1e-2, 10, 60), [](int64_t, double lr) { return 2.3 + std::log10(lr) + 2; });
  EXPECT_EQ(rising.suggestion_status(), LrCurve::SUGGESTION_NO_DESCENT);
  EXPECT_EQ(rising.suggested_lr(), 0);
  EXPECT_GT(rising.min_loss_lr(), 0);
  // Flat with noise: small wiggles are not a descent.
  std::mt19937 random(7);
  std::normal_distribution<double> noise(0, 0.01);
  const LrCurve flat = RunTest(Settings(1e-6, 1e-3, 60), [&](int64_t, double) { return 2.3 + noise(random); });
  EXPECT_EQ(flat.suggestion_status(), LrCurve::SUGGESTION_NO_DESCENT);
  EXPECT_EQ(flat.suggested_lr(), 0);
}

TEST(SuggestionNameTest, NamesEveryStatus) {
  EXPECT_STREQ(SuggestionName(LrCurve::SUGGESTION_OK), "ok");
  EXPECT_STREQ(SuggestionName(LrCurve::SUGGESTION_TOO_FEW_POINTS), "too_few_points");
  EXPECT_STREQ(SuggestionName(LrCurve::SUGGESTION_NO_DESCENT), "no_descent");
  EXPECT_STREQ(SuggestionName(LrCurve::SUGGESTION_STATUS_UNSPECIFIED), "unspecified");
}

TEST_F(SuggestTest, RerunningSuggestGivesTheSameAnswer) {
  LrCurve curve = Clean();
  const LrCurve first = curve;
  Suggest(&curve);
  EXPECT_EQ(curve.SerializeAsString(), first.SerializeAsString());
}

}  // namespace
}  // namespace forge
