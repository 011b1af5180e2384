// Where this process stands in a data-parallel job, read from what its launcher exported:
// torchrun (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT,
// TORCHELASTIC_USE_AGENT_STORE, TORCHELASTIC_RESTART_COUNT), Open MPI's mpirun
// (OMPI_COMM_WORLD_RANK, _SIZE, _LOCAL_RANK, _LOCAL_SIZE) or SLURM's srun (SLURM_PROCID,
// SLURM_NTASKS, SLURM_LOCALID, SLURM_NTASKS_PER_NODE; MASTER_ADDR/MASTER_PORT when the batch
// script exports them, else the first host of SLURM_JOB_NODELIST and a port drawn from
// SLURM_JOB_ID, the same in every task). torchrun's variables win over mpirun's, mpirun's over SLURM's (an `srun` step can
// start `mpirun`, and torchrun can run under either).
//
//   absl::StatusOr<Launch> launch = DetectLaunch(ProcessEnvironment());
//   if (launch->world_size > 1) ...
#ifndef FORGE_LIB_DISTRIBUTED_LAUNCH_H_
#define FORGE_LIB_DISTRIBUTED_LAUNCH_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"

namespace forge {

struct Launch {
  std::string launcher = "none";  // "torchrun", "mpirun", "srun" or "none" (one process)
  int rank = 0;                   // in [0, world_size)
  int world_size = 1;
  int local_rank = 0;             // among the processes on this machine: also the GPU it uses
  int local_world_size = 1;
  // Where the job's TCPStore listens (rank 0 hosts it, or torchrun's agent does when
  // agent_store); empty/0 when the launcher gave none (mpirun: rank 0 picks and tells the others).
  std::string master_addr;
  int master_port = 0;
  bool agent_store = false;
  int restart_count = 0;          // torchrun's restarts of the job so far
};

// Looks a variable up: the value, or null when unset (std::getenv's contract).
using GetEnv = std::function<const char*(const char*)>;

// The process's environment.
GetEnv ProcessEnvironment();

// InvalidArgument naming the variable for values that are not numbers or are out of range
// (RANK >= WORLD_SIZE, ...).
absl::StatusOr<Launch> DetectLaunch(const GetEnv& env);

// The first host of a SLURM host list: "gpu[07-10,12],cpu3" -> "gpu07"; "" for an empty list.
std::string FirstSlurmHost(const std::string& nodelist);

}  // namespace forge

#endif  // FORGE_LIB_DISTRIBUTED_LAUNCH_H_
