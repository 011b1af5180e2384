// Tests that run as several processes of one MPI job: the test binary, started by Bazel as one
// process, starts itself again under `mpirun -np <ranks>` on loopback and reports that job's
// result; under mpirun, every rank runs the tests (each TEST body runs in all ranks at once, so
// collectives inside it meet).
//
//   int main(int argc, char** argv) { return forge::RunTestsOnRanks(argc, argv, 2); }
#ifndef FORGE_LIB_DISTRIBUTED_MPI_TESTING_H_
#define FORGE_LIB_DISTRIBUTED_MPI_TESTING_H_

#include <string>
#include <vector>

namespace forge {

// The mpirun command line that starts `ranks` processes of `program` on this machine over
// loopback (as root too, more processes than cores allowed), followed by `arguments`.
std::vector<std::string> MpirunCommand(int ranks, const std::vector<std::string>& program_and_arguments);

// In a process started by mpirun: runs the tests (InitGoogleTest + RUN_ALL_TESTS) and returns
// their exit code. Otherwise: runs this binary under mpirun with `ranks` processes and returns
// the job's exit code.
int RunTestsOnRanks(int argc, char** argv, int ranks);

}  // namespace forge

#endif  // FORGE_LIB_DISTRIBUTED_MPI_TESTING_H_
