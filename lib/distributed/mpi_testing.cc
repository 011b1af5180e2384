#include "lib/distributed/mpi_testing.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace forge {

std::vector<std::string> MpirunCommand(int ranks, const std::vector<std::string>& program_and_arguments) {
  std::vector<std::string> command = {
      "mpirun", "-np", absl::StrCat(ranks), "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
      // Loopback TCP only: no shared-memory transport (containers often forbid its
      // cross-process copies) and no other network.
      "--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", "lo", "--mca", "oob_tcp_if_include", "lo"};
  command.insert(command.end(), program_and_arguments.begin(), program_and_arguments.end());
  return command;
}

int RunTestsOnRanks(int argc, char** argv, int ranks) {
  if (std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr) {
    testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
  }
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0) {
    // The GPU check kit's machine has no Open MPI; ci/setup.sh installs it everywhere else.
    std::printf("SKIPPED: mpirun not found: %s needs %d processes under Open MPI's mpirun\n", argv[0], ranks);
    return 0;
  }
  std::vector<std::string> command = MpirunCommand(ranks, std::vector<std::string>(argv, argv + argc));
  std::vector<char*> args;
  for (std::string& arg : command) args.push_back(arg.data());
  args.push_back(nullptr);
  const pid_t child = fork();
  if (child == 0) {
    // Files Bazel gives one test process, which the ranks must not all write.
    unsetenv("TEST_PREMATURE_EXIT_FILE");
    unsetenv("XML_OUTPUT_FILE");
    execvp(args[0], args.data());
    std::fprintf(stderr, "cannot run mpirun: %s\n", std::strerror(errno));
    _exit(127);
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child) return 1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace forge
