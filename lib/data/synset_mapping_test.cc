#include "lib/data/synset_mapping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace forge {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(SynsetMappingTest, NamesByWnidKeepingDuplicateNames) {
  absl::StatusOr<std::map<std::string, std::string>> names = ParseSynsetMapping(
      "n01440764 tench, Tinca tinca\r\n\nn02012849 crane\nn03126707\tcrane  \n", "map.txt");
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, ElementsAre(Pair("n01440764", "tench, Tinca tinca"), Pair("n02012849", "crane"),
                                  Pair("n03126707", "crane")));
}

TEST(SynsetMappingTest, ErrorsNameFileAndLine) {
  absl::Status status = ParseSynsetMapping("n01440764 tench\nn02012849\n", "map.txt").status();
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("map.txt:2:"));
  status = ParseSynsetMapping("n01440764 tench\nn01440764 tench again\n", "map.txt").status();
  EXPECT_THAT(status.message(), HasSubstr("map.txt:2: WNID n01440764 is listed twice"));
  EXPECT_TRUE(absl::IsNotFound(ReadSynsetMapping(::testing::TempDir() + "/absent.txt").status()));
}

}  // namespace
}  // namespace forge
