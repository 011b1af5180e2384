#include "lib/data/synset_mapping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testdata/scratch.h"

namespace forge {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(SynsetMappingTest, UsageExample) {
  absl::StatusOr<std::map<std::string, std::string>> names =
      ParseSynsetMapping("n01440764 tench, Tinca tinca\n", "map.txt");
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_EQ(names->at("n01440764"), "tench, Tinca tinca");
}

TEST(SynsetMappingTest, NamesByWnidKeepingDuplicateNames) {
  absl::StatusOr<std::map<std::string, std::string>> names = ParseSynsetMapping(
      "n01440764 tench, Tinca tinca\n\nn02012849 crane\nn03126707\tcrane  \n", "map.txt");
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, ElementsAre(Pair("n01440764", "tench, Tinca tinca"), Pair("n02012849", "crane"),
                                  Pair("n03126707", "crane")));
}

// What editors and downloads add: a byte order mark, CRLF line ends, blank and indented lines,
// no final line end.
TEST(SynsetMappingTest, ToleratesBomCrlfAndBlankLines) {
  absl::StatusOr<std::map<std::string, std::string>> names = ParseSynsetMapping(
      "\xEF\xBB\xBFn01440764 tench, Tinca tinca\r\n\r\n  \r\n  n01443537 goldfish\r\nn02012849 crane", "map.txt");
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, ElementsAre(Pair("n01440764", "tench, Tinca tinca"), Pair("n01443537", "goldfish"),
                                  Pair("n02012849", "crane")));
}

TEST(SynsetMappingTest, ErrorsNameFileAndLine) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"n01440764 tench\nn02012849\n", "map.txt:2: WNID n02012849 has no name"},
      {"n01440764 tench\r\nn01440764 tench again\r\n", "map.txt:2: WNID n01440764 is listed twice (first on line 1)"},
      {"\n\ntench n01440764\n", "map.txt:3: the line does not start with a WNID"},
      {"n1440764 tench\n", "map.txt:1: the line does not start with a WNID"},
      {"n014407640 tench\n", "map.txt:1: the line does not start with a WNID"},
      {"N01440764 tench\n", "map.txt:1: the line does not start with a WNID"},
      {"n01440764,tench\n", "map.txt:1: the line does not start with a WNID"},
      // A BOM anywhere but at the start is not whitespace.
      {"n01440764 tench\n\xEF\xBB\xBFn01443537 goldfish\n", "map.txt:2: the line does not start with a WNID"},
      {"", "map.txt: the synset mapping names no WNID"},
      {"\xEF\xBB\xBF\r\n \n", "map.txt: the synset mapping names no WNID"},
  };
  for (const Case& c : cases) {
    absl::Status status = ParseSynsetMapping(c.text, "map.txt").status();
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << c.text << ": " << status;
    EXPECT_THAT(status.message(), HasSubstr(c.message)) << c.text;
  }
}

TEST(SynsetMappingTest, IsWnid) {
  EXPECT_TRUE(IsWnid("n01440764"));
  EXPECT_FALSE(IsWnid("n0144076"));
  EXPECT_FALSE(IsWnid("n014407641"));
  EXPECT_FALSE(IsWnid("n0144076x"));
  EXPECT_FALSE(IsWnid("x01440764"));
  EXPECT_FALSE(IsWnid(""));
}

TEST(SynsetMappingTest, ReadsAFileAndNamesItInErrors) {
  const std::string dir = testdata::NewScratchDir();
  testdata::WriteTestFile(dir + "/map.txt", "\xEF\xBB\xBFn01440764 tench\r\n");
  absl::StatusOr<std::map<std::string, std::string>> names = ReadSynsetMapping(dir + "/map.txt");
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, ElementsAre(Pair("n01440764", "tench")));

  testdata::WriteTestFile(dir + "/bad.txt", "n01440764\n");
  EXPECT_THAT(ReadSynsetMapping(dir + "/bad.txt").status().message(), HasSubstr(dir + "/bad.txt:1:"));
  EXPECT_TRUE(absl::IsNotFound(ReadSynsetMapping(dir + "/absent.txt").status()));
}

}  // namespace
}  // namespace forge
