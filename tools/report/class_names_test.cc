#include "tools/report/class_names.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace forge {
namespace {

using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::ElementsAre;

TEST(ClassLabelTest, WnidAndName) {
  EXPECT_EQ(ClassLabel(0, "n02012849", "crane"), "n02012849 (crane)");
  EXPECT_EQ(ClassLabel(3, "n04399382", ""), "n04399382");
  EXPECT_EQ(ClassLabel(7, "", ""), "#7");
  EXPECT_EQ(ClassLabel(7, "", "cat"), "#7 (cat)");
}

}  // namespace
}  // namespace forge
