#include "lib/report/ticks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace forge {
namespace {

std::vector<double> Values(const std::vector<Tick>& ticks, bool major_only = false) {
  std::vector<double> values;
  for (const Tick& tick : ticks) {
    if (!major_only || tick.major) values.push_back(tick.value);
  }
  return values;
}

std::vector<std::string> Labels(const std::vector<Tick>& ticks) {
  std::vector<std::string> labels;
  for (const Tick& tick : ticks) {
    if (tick.major) labels.push_back(tick.label);
  }
  return labels;
}

using ::testing::DoubleEq;
using ::testing::ElementsAre;

TEST(NiceStepTest, OneTwoFive) {
  EXPECT_DOUBLE_EQ(NiceStep(10, 5), 2);
  EXPECT_DOUBLE_EQ(NiceStep(100, 6), 20);
  EXPECT_DOUBLE_EQ(NiceStep(1, 5), 0.2);
  EXPECT_DOUBLE_EQ(NiceStep(0.3, 6), 0.05);
  EXPECT_DOUBLE_EQ(NiceStep(7, 6), 1);
  EXPECT_DOUBLE_EQ(NiceStep(3, 6, /*integer_step=*/true), 1);
  EXPECT_DOUBLE_EQ(NiceStep(1000, 6), 200);
}

TEST(LinearTicksTest, StepsAndLabels) {
  std::vector<Tick> ticks = LinearTicks(0.2, 6.9, 6);
  EXPECT_THAT(Values(ticks), ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_THAT(Labels(ticks), ElementsAre("1", "2", "3", "4", "5", "6"));

  ticks = LinearTicks(-0.03, 0.41, 6);
  EXPECT_THAT(Labels(ticks), ElementsAre("0.0", "0.1", "0.2", "0.3", "0.4"));
  EXPECT_EQ(ticks[0].value, 0.0);

  ticks = LinearTicks(-12, 12, 6);
  EXPECT_THAT(Labels(ticks), ElementsAre("-10", "-5", "0", "5", "10"));
}

TEST(LinearTicksTest, IntegerEpochs) {
  EXPECT_THAT(Values(LinearTicks(0.9, 3.1, 6, true)), ElementsAre(1, 2, 3));
  EXPECT_THAT(Values(LinearTicks(-1, 101, 6, true)), ElementsAre(0, 20, 40, 60, 80, 100));
}

TEST(LinearTicksTest, ScientificForTinyAndHugeValues) {
  EXPECT_THAT(Labels(LinearTicks(0, 4.2e-4, 4)), ElementsAre("0", "1e-4", "2e-4", "3e-4", "4e-4"));
  EXPECT_THAT(Labels(LinearTicks(1e6, 3e6, 4)), ElementsAre("1e+6", "1.5e+6", "2e+6", "2.5e+6", "3e+6"));
}

TEST(LinearTicksTest, EmptyForEmptyRange) {
  EXPECT_TRUE(LinearTicks(1, 1).empty());
  EXPECT_TRUE(LinearTicks(2, 1).empty());
}

TEST(LogTicksTest, PowersOfTenWithMinorTicks) {
  std::vector<Tick> ticks = LogTicks(1e-7, 10);
  EXPECT_THAT(Labels(ticks), ElementsAre("10\u207b\u2077", "10\u207b\u2076", "10\u207b\u2075",
                                         "10\u207b\u2074", "10\u207b\u00b3", "10\u207b\u00b2",
                                         "10\u207b\u00b9", "10\u2070", "10\u00b9"));
  EXPECT_EQ(ticks.size(), 8u * 9 + 1);
  EXPECT_FALSE(ticks[1].major);
  EXPECT_THAT(ticks[1].value, DoubleEq(2e-7));
}

TEST(LogTicksTest, ManyDecadesLabelEveryOtherPower) {
  std::vector<std::string> labels = Labels(LogTicks(1e-12, 1e3));
  EXPECT_THAT(labels, ElementsAre("10\u207b\u00b9\u00b2", "10\u207b\u00b9\u2070", "10\u207b\u2078",
                                  "10\u207b\u2076", "10\u207b\u2074", "10\u207b\u00b2", "10\u2070",
                                  "10\u00b2"));
}

TEST(LogTicksTest, NarrowRangesLabelTwoAndFive) {
  std::vector<Tick> ticks = LogTicks(1.5e-4, 3e-3);
  EXPECT_THAT(Labels(ticks), ElementsAre("2\u00d710\u207b\u2074", "5\u00d710\u207b\u2074",
                                         "10\u207b\u00b3", "2\u00d710\u207b\u00b3"));
  // Narrower than that: linear ticks.
  ticks = LogTicks(3e-4, 4.5e-4);
  EXPECT_GE(Labels(ticks).size(), 2u);
  EXPECT_EQ(Labels(ticks)[0], "3e-4");
}

}  // namespace
}  // namespace forge
