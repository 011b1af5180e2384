#include "tools/valprep/valprep_testing.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "testdata/scratch.h"

namespace forge {
namespace valprep_testing {

namespace fs = std::filesystem;

std::vector<std::string> ListTree(const std::string& root) {
  std::vector<std::string> entries;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string relative = fs::relative(it->path(), root).string();
    if (it->is_symlink()) {
      entries.push_back(absl::StrCat(relative, " -> ", fs::read_symlink(it->path()).string()));
    } else if (it->is_directory()) {
      entries.push_back(absl::StrCat(relative, "/"));
    } else {
      entries.push_back(absl::StrCat(relative, " = ", testdata::ReadTestFile(it->path().string())));
    }
  }
  EXPECT_FALSE(ec) << "cannot list " << root << ": " << ec.message();
  std::sort(entries.begin(), entries.end());
  return entries;
}

std::string ImageContents(int number) { return absl::StrCat("jpeg bytes of image ", number); }

void MakeFlatVal(const std::string& dir, int n) {
  for (int i = 1; i <= n; ++i) {
    testdata::WriteTestFile(absl::StrFormat("%s/ILSVRC2012_val_%08d.JPEG", dir, i), ImageContents(i));
  }
}

}  // namespace valprep_testing
}  // namespace forge
