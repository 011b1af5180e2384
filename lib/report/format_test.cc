#include "lib/report/format.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace forge {
namespace {

TEST(FormatTest, GeneralFormat) {
  EXPECT_EQ(FormatG(0.1), "0.1");
  EXPECT_EQ(FormatG(76.123456), "76.1235");
  EXPECT_EQ(FormatG(1e-5), "1e-05");
  EXPECT_EQ(FormatG(2470.0), "2470");
  EXPECT_EQ(FormatG(-0.0), "0");
  EXPECT_EQ(FormatG(-1.5), "-1.5");
  EXPECT_EQ(FormatG(std::nan("")), "nan");
  EXPECT_EQ(FormatG(-std::nan("")), "nan");
  EXPECT_EQ(FormatG(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(FormatG(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(FormatG(1.0 / 3, 3), "0.333");
}

TEST(FormatTest, FixedRoundsLikePythonAndDropsNegativeZero) {
  EXPECT_EQ(FormatFixed(76.125, 2), "76.12");  // exact binary value, half to even
  EXPECT_EQ(FormatFixed(0.125, 2), "0.12");
  EXPECT_EQ(FormatFixed(0.375, 2), "0.38");
  EXPECT_EQ(FormatFixed(2.0 / 3, 4), "0.6667");
  EXPECT_EQ(FormatFixed(-0.001, 2), "0.00");
  EXPECT_EQ(FormatFixed(-0.01, 2), "-0.01");
  EXPECT_EQ(FormatFixed(-1e-300, 0), "0");
  EXPECT_EQ(FormatFixed(std::nan(""), 2), "nan");
}

TEST(FormatTest, Thousands) {
  EXPECT_EQ(FormatThousands(0), "0");
  EXPECT_EQ(FormatThousands(999), "999");
  EXPECT_EQ(FormatThousands(1000), "1,000");
  EXPECT_EQ(FormatThousands(25557032), "25,557,032");
  EXPECT_EQ(FormatThousands(-1234567), "-1,234,567");
}

TEST(FormatTest, Duration) {
  EXPECT_EQ(FormatDuration(12.34), "12.3s");
  EXPECT_EQ(FormatDuration(125), "2m 05s");
  EXPECT_EQ(FormatDuration(46923.4), "13h 02m 03s");
  EXPECT_EQ(FormatDuration(-1), "-");
  EXPECT_EQ(FormatDuration(std::nan("")), "-");
}

TEST(FormatTest, Compact) {
  EXPECT_EQ(FormatCompact(0.1), "0.1");
  EXPECT_EQ(FormatCompact(0.00032), "0.00032");
  EXPECT_EQ(FormatCompact(3.2e-5), "3.2e-5");
  EXPECT_EQ(FormatCompact(1.5e6), "1.5e+6");
  EXPECT_EQ(FormatCompact(1e-10), "1e-10");
  EXPECT_EQ(FormatCompact(0.123456), "0.123");
}

TEST(FormatTest, Utf8Length) {
  EXPECT_EQ(Utf8Length(""), 0);
  EXPECT_EQ(Utf8Length("crane"), 5);
  EXPECT_EQ(Utf8Length("caf\xc3\xa9"), 4);
  EXPECT_EQ(Utf8Length("\xe2\x86\x92"), 1);
}

}  // namespace
}  // namespace forge
