#include "testdata/tool_runner.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

extern char** environ;

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

pid_t StartProcess(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (std::string& arg : copy) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  const int error = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(error, 0) << "cannot start " << argv[0];
  return pid;
}

namespace {

int CodeOf(int status) { return WIFSIGNALED(status) ? 1000 + WTERMSIG(status) : WEXITSTATUS(status); }

}  // namespace

int WaitForProcess(pid_t pid) {
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  return CodeOf(status);
}

bool ProcessEnded(pid_t pid, int* exit_code) {
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) != pid) return false;
  *exit_code = CodeOf(status);
  return true;
}

std::string ReadText(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace forge::testdata
