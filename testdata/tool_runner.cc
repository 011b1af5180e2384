#include "testdata/tool_runner.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace forge::testdata {
namespace {

std::string ReadAndRemove(const std::string& path) {
  std::stringstream bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes << in.rdbuf();
  }
  std::remove(path.c_str());
  return bytes.str();
}

}  // namespace

std::string Runfile(const std::string& relative) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  EXPECT_NE(srcdir, nullptr) << "run under bazel test";
  return absl::StrCat(srcdir ? srcdir : ".", "/", workspace ? workspace : "resnet_forge", "/", relative);
}

ToolResult RunTool(const std::string& binary, const std::string& flags, const std::string& scratch_dir) {
  const std::string out = scratch_dir + "/stdout", err = scratch_dir + "/stderr";
  const std::string command = absl::StrCat("'", Runfile(binary), "' ", flags, " >'", out, "' 2>'", err, "'");
  const int status = std::system(command.c_str());
  ToolResult result;
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.out = ReadAndRemove(out);
  result.err = ReadAndRemove(err);
  return result;
}

}  // namespace forge::testdata
