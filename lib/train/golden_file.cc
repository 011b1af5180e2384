// Implementation of the lib/train golden-file helpers.
#include "lib/train/golden_file.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace forge::train_testing {

std::vector<std::vector<std::string>> ReadGoldenLines(absl::string_view name) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  const std::string path =
      absl::StrCat(srcdir != nullptr ? srcdir : ".", "/", workspace != nullptr ? workspace : "resnet_forge",
                   "/lib/train/testdata/", name);
  std::ifstream file(path);
  if (!file) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  std::vector<std::vector<std::string>> lines;
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    lines.push_back(absl::StrSplit(line, ' ', absl::SkipEmpty()));
  }
  return lines;
}

double ParseDouble(absl::string_view token) {
  double value;
  if (!absl::SimpleAtod(token, &value)) {
    ADD_FAILURE() << "not a number: '" << token << "'";
    return std::nan("");
  }
  return value;
}

std::vector<double> ParseDoubles(const std::vector<std::string>& line, size_t begin, size_t end) {
  std::vector<double> values;
  for (size_t i = begin; i < end && i < line.size(); ++i) values.push_back(ParseDouble(line[i]));
  return values;
}

std::string JoinFrom(const std::vector<std::string>& line, size_t begin) {
  if (begin >= line.size()) return "";
  return absl::StrJoin(line.begin() + begin, line.end(), " ");
}

}  // namespace forge::train_testing
