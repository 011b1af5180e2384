#include "tools/report/class_names.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace forge {
namespace {

using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::ElementsAre;

TEST(ParseSynsetMappingTest, NamesByWnid) {
  absl::StatusOr<std::map<std::string, std::string>> names = ParseSynsetMapping(
      "n01440764 tench, Tinca tinca\r\n\nn02012849 crane\nn03126707\tcrane  \n", "map.txt");
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, ElementsAre(Pair("n01440764", "tench, Tinca tinca"), Pair("n02012849", "crane"),
                                  Pair("n03126707", "crane")));
}

TEST(ParseSynsetMappingTest, ErrorsNameFileAndLine) {
  absl::StatusOr<std::map<std::string, std::string>> names =
      ParseSynsetMapping("n01440764 tench\nn02012849\n", "map.txt");
  ASSERT_FALSE(names.ok());
  EXPECT_EQ(names.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(names.status().message(), HasSubstr("map.txt line 2"));
  names = ParseSynsetMapping("n01440764 tench\nn01440764 tench again\n", "map.txt");
  ASSERT_FALSE(names.ok());
  EXPECT_THAT(names.status().message(), HasSubstr("map.txt line 2: n01440764 is listed twice"));
}

TEST(ClassLabelTest, WnidAndName) {
  EXPECT_EQ(ClassLabel(0, "n02012849", "crane"), "n02012849 (crane)");
  EXPECT_EQ(ClassLabel(3, "n04399382", ""), "n04399382");
  EXPECT_EQ(ClassLabel(7, "", ""), "#7");
  EXPECT_EQ(ClassLabel(7, "", "cat"), "#7 (cat)");
}

}  // namespace
}  // namespace forge
