// Running a tool's binary from a test (testonly): where Bazel put it, and what it printed.
//
//   ToolResult result = RunTool("tools/shard/shard", "--verify=" + manifest, scratch_dir);
//   EXPECT_EQ(result.exit_code, 0) << result.err;
#ifndef FORGE_TESTDATA_TOOL_RUNNER_H_
#define FORGE_TESTDATA_TOOL_RUNNER_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace forge::testdata {

// The path of `relative`, a path in the workspace (e.g. "tools/shard/shard"), in the test's
// runfiles. Fails the current test when not run by `bazel test`.
std::string Runfile(const std::string& relative);

struct ToolResult {
  int exit_code = -1;  // -1 if it did not exit normally
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs the binary at runfile `binary` with `flags` (shell words, quoted by the caller where
// needed), capturing its output in `scratch_dir`/stdout and stderr (removed afterwards).
ToolResult RunTool(const std::string& binary, const std::string& flags, const std::string& scratch_dir);

// Starts `args` (args[0] the program's path) in the background, its stdout and stderr appended
// to `log`. Fails the current test when it cannot start.
pid_t StartProcess(const std::vector<std::string>& args, const std::string& log);

// Waits for a process StartProcess started: its exit code, or 1000 + the signal that ended it.
int WaitForProcess(pid_t pid);

// Whether `pid` has ended, without waiting; its WaitForProcess code in *exit_code if so.
bool ProcessEnded(pid_t pid, int* exit_code);

// The whole file (empty when it cannot be read).
std::string ReadText(const std::string& path);

}  // namespace forge::testdata

#endif  // FORGE_TESTDATA_TOOL_RUNNER_H_
