#include "tools/valprep/scratch.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace forge {
namespace valprep_testing {

namespace fs = std::filesystem;

std::string NewScratchDir(absl::string_view tag) {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = absl::StrCat("valprep_", test->test_suite_name(), "_", test->name());
  if (!tag.empty()) absl::StrAppend(&name, "_", tag);
  std::replace(name.begin(), name.end(), '/', '_');  // parameterised test names
  const fs::path dir = fs::path(::testing::TempDir()) / name;
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  EXPECT_FALSE(ec) << "cannot create " << dir << ": " << ec.message();
  return dir.string();
}

void WriteTestFile(const std::string& path, absl::string_view contents) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  EXPECT_TRUE(out.good()) << "cannot write " << path;
}

std::string ReadTestFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "<unreadable>";
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

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
      entries.push_back(absl::StrCat(relative, " = ", ReadTestFile(it->path().string())));
    }
  }
  EXPECT_FALSE(ec) << "cannot list " << root << ": " << ec.message();
  std::sort(entries.begin(), entries.end());
  return entries;
}

std::string ImageContents(int number) { return absl::StrCat("jpeg bytes of image ", number); }

void MakeFlatVal(const std::string& dir, int n) {
  for (int i = 1; i <= n; ++i) {
    WriteTestFile(absl::StrFormat("%s/ILSVRC2012_val_%08d.JPEG", dir, i), ImageContents(i));
  }
}

}  // namespace valprep_testing
}  // namespace forge
