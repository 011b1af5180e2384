// A tool's place in a data-parallel job, from its launcher's environment (launch.h) and the
// flags every distributed tool takes:
//   --dist_engine   auto (NCCL for CUDA, Open MPI for the CPU), nccl or mpi
//   --dist_timeout  seconds a collective may wait for the other processes before the job ends
// Launched alone, a tool is a group of one and nothing changes.
//
//   absl::StatusOr<Job> job = JoinJob(FLAGS_device, FLAGS_threads);
//   options.process_group = job->group.get();
//   absl::Status status = Run(options);
//   return LeaveJob(*job, status.ok() ? 0 : ExitWithError(status));
#ifndef FORGE_LIB_DISTRIBUTED_JOB_H_
#define FORGE_LIB_DISTRIBUTED_JOB_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "lib/distributed/launch.h"
#include "lib/engine/process_group.h"

namespace forge {

struct Job {
  Launch launch;
  std::unique_ptr<ProcessGroup> group;
  std::string device;  // this process's: "cuda" becomes cuda:<local rank>; "" resolved to cuda or cpu
  int threads = 0;     // intra-op CPU threads: the flag's, or (0) this process's share of the cores
};

// Joins the job (blocking until every process has), with `device` and `threads` as the tool's
// flags give them. Errors: the launch's and JoinProcessGroup's.
absl::StatusOr<Job> JoinJob(const std::string& device, int threads);

// The exit code to return from main: `code` after leaving the group when the run ended the same
// way in every process (success, 0, or an agreed stop, kExitStopped); for any other failure in a
// group of several, the process ends here (AbandonGroup) so that the launcher ends the others.
int LeaveJob(Job& job, int code);

}  // namespace forge

#endif  // FORGE_LIB_DISTRIBUTED_JOB_H_
