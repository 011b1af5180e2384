#include "testdata/scratch.h"

#include <stdlib.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace forge::testdata {

namespace fs = std::filesystem;

std::string NewScratchDir(absl::string_view tag) {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  // Outside a test (a static set-up of the binary) there is no test name to use.
  std::string name = test == nullptr ? "scratch" : absl::StrCat(test->test_suite_name(), ".", test->name());
  if (!tag.empty()) absl::StrAppend(&name, ".", tag);
  for (char& c : name) {
    if (c == '/') c = '_';  // parameterised tests are named "Suite/Name/0"
  }
  std::string dir = absl::StrCat(::testing::TempDir(), ::testing::TempDir().back() == '/' ? "" : "/", name, ".XXXXXX");
  if (::mkdtemp(dir.data()) == nullptr) {
    std::fprintf(stderr, "cannot create a scratch directory %s: %s\n", dir.c_str(), std::strerror(errno));
    std::abort();
  }
  return dir;
}

void WriteTestFile(const std::string& path, absl::string_view contents) {
  std::error_code ec;
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  ASSERT_FALSE(ec) << "cannot create " << parent << ": " << ec.message();
  std::FILE* file = std::fopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << "cannot create " << path << ": " << std::strerror(errno);
  const bool written = std::fwrite(contents.data(), 1, contents.size(), file) == contents.size();
  const bool closed = std::fclose(file) == 0;
  EXPECT_TRUE(written && closed) << "cannot write " << path << ": " << std::strerror(errno);
}

std::string ReadTestFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    ADD_FAILURE() << "cannot open " << path << ": " << std::strerror(errno);
    return "";
  }
  std::string contents;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) contents.append(buffer, n);
  // A directory opens fine and fails on the first read.
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  return contents;
}

std::map<std::string, std::string> ReadTestTree(const std::string& dir) {
  std::map<std::string, std::string> tree;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file() || it->is_symlink()) continue;
    tree[it->path().lexically_relative(dir).string()] = ReadTestFile(it->path().string());
  }
  EXPECT_FALSE(ec) << "cannot list " << dir << ": " << ec.message();
  return tree;
}

}  // namespace forge::testdata
